import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { inOrderBatches } from '../../../src/controller/action-batches.ts';
import { runBounded } from '../../../src/controller/run-bounded.ts';
import type { Action } from '../../../src/core/actions.ts';

describe('bounded concurrent calls (restarts of a wave)', () => {
  it('never more than the limit in flight, every item run once, started in order', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    await runBounded(Array.from({ length: 25 }, (_, i) => i), 4, async (i) => {
      started.push(i);
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      for (let k = 0; k < (i % 3) + 1; k++) await tick();
      inFlight -= 1;
    });
    assert.equal(peak, 4);
    assert.deepEqual(started, Array.from({ length: 25 }, (_, i) => i));
  });

  it('the first failure stops new starts, waits for those in flight, then is thrown', async () => {
    const finished: number[] = [];
    const started: number[] = [];
    await assert.rejects(
      runBounded(Array.from({ length: 20 }, (_, i) => i), 3, async (i) => {
        started.push(i);
        await tick();
        if (i === 1) throw new Error('boom 1');
        await tick();
        finished.push(i);
      }),
      /boom 1/,
    );
    assert.ok(started.length < 20, `started ${started.length}`);
    assert.deepEqual(finished.sort((a, b) => a - b), started.filter((i) => i !== 1).sort((a, b) => a - b), 'every call started was awaited');
  });

  it('no items: nothing runs', async () => {
    let calls = 0;
    await runBounded([], 8, () => {
      calls += 1;
      return Promise.resolve();
    });
    assert.equal(calls, 0);
  });
});

describe('which actions of a pass run side by side', () => {
  const restart = (name: string): Action => ({ type: 'restartWorkload', kind: 'Deployment', namespace: 'ns', name, stamp: 's', restartedAt: 't' });
  it('consecutive restarts and evictions form one batch; anything else runs alone, in order', () => {
    const actions: Action[] = [
      { type: 'labelNamespace', name: 'ns', labels: {} },
      restart('a'),
      { type: 'evictPod', namespace: 'ns', name: 'p' },
      restart('b'),
      { type: 'revokeInstallerAccess', jobName: 'j' },
      restart('c'),
    ];
    const shape = inOrderBatches(actions).map((b) => b.map((a) => ('name' in a ? `${a.type}:${a.name}` : a.type)));
    assert.deepEqual(shape, [['labelNamespace:ns'], ['restartWorkload:a', 'evictPod:p', 'restartWorkload:b'], ['revokeInstallerAccess'], ['restartWorkload:c']]);
  });
});
