// The bound on restarts left running by passes: it holds over every pass, not per pass.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { RestartWorkload } from '../../../src/core/actions.ts';
import { BackgroundRestarts } from '../../../src/controller/background-restarts.ts';

const restart = (name: string): RestartWorkload => ({ type: 'restartWorkload', kind: 'Deployment', namespace: 'bar', name, stamp: 's', restartedAt: '2026-11-30T10:00:00Z' });

it('at most `limit` restarts in flight over two launches; the rest start in order as answers come', async () => {
  const restarts = new BackgroundRestarts(2, () => '1');
  const inFlight: { name: string; answer: () => void }[] = [];
  const started: string[] = [];
  const run = (action: RestartWorkload): Promise<void> =>
    new Promise((resolve) => {
      started.push(action.name);
      inFlight.push({ name: action.name, answer: resolve });
    });
  const first = restarts.launch('up', restarts.unsent('up', [restart('a'), restart('b')]), run, () => undefined);
  const second = restarts.launch('up', restarts.unsent('up', [restart('a'), restart('c'), restart('d')]), run, () => undefined);
  await tick();
  assert.deepEqual(started, ['a', 'b'], 'a launched once; c and d wait for a free slot');
  inFlight.shift()?.answer();
  await tick();
  assert.deepEqual(started, ['a', 'b', 'c']);
  for (let answered = 0; answered < 3; answered++) {
    inFlight.shift()?.answer();
    await tick();
  }
  assert.deepEqual(started, ['a', 'b', 'c', 'd']);
  assert.equal(await first, true);
  assert.equal(await second, true);
  await restarts.drain();
});
