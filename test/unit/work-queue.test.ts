import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from '../../src/controller/work-queue.ts';

describe('work queue', () => {
  it('de-duplicates keys and hands them out in order', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length(), 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
  });

  it('never hands a key to two workers; a change during processing re-queues it once', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    assert.equal(key, 'a');
    q.add('a');
    q.add('a');
    assert.equal(q.length(), 0, 'not queued while processing');
    q.done('a');
    assert.equal(q.length(), 1);
    assert.equal(await q.get(), 'a');
    q.done('a');
    assert.equal(q.length(), 0);
  });

  it('delays adds; the earliest pending delay wins', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 200);
    q.addAfter('a', 20);
    const started = Date.now();
    assert.equal(await q.get(), 'a');
    const waited = Date.now() - started;
    assert.ok(waited >= 15 && waited < 190, `waited ${waited}ms`);
  });

  it('backs off exponentially per key, until forgotten', () => {
    const q = new WorkQueue({ baseMs: 100, maxMs: 350 });
    assert.deepEqual([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')], [100, 200, 350, 350]);
    q.forget('a');
    assert.equal(q.addRateLimited('a'), 100);
    q.shutDown();
  });

  it('wakes waiting workers on shut down', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
    q.add('late');
    assert.equal(q.length(), 0);
  });
});
