import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_DELAY_MS, WorkQueue, type Scheduler } from '../../src/controller/work-queue.ts';

/** A scheduler the test drives: time moves only when advance() is called. */
class ManualScheduler implements Scheduler {
  private time = 0;
  private pending: { at: number; fn: () => void; cancelled: boolean }[] = [];
  now(): number {
    return this.time;
  }
  after(delayMs: number, fn: () => void): { cancel(): void } {
    const entry = { at: this.time + delayMs, fn, cancelled: false };
    this.pending.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.pending.filter((p) => p.at <= this.time && !p.cancelled);
    this.pending = this.pending.filter((p) => p.at > this.time && !p.cancelled);
    for (const entry of due) entry.fn();
  }
}

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

  it('delays adds; the earliest pending delay wins', () => {
    const clock = new ManualScheduler();
    const q = new WorkQueue(undefined, clock);
    q.addAfter('a', 200);
    q.addAfter('a', 20);
    clock.advance(19);
    assert.equal(q.length(), 0, 'not before its delay');
    clock.advance(1);
    assert.equal(q.length(), 1, 'at 20 ms');
    clock.advance(500);
    assert.equal(q.length(), 1, 'the later delay was dropped, not added again');
  });

  it('a delay beyond what a timer can hold (720h) is clamped: no busy loop, looked at again after an hour', () => {
    const clock = new ManualScheduler();
    const q = new WorkQueue(undefined, clock);
    q.addAfter('a', 720 * 3_600_000);
    q.addAfter('b', Number.POSITIVE_INFINITY);
    clock.advance(1);
    assert.equal(q.length(), 0, 'not at once');
    clock.advance(MAX_DELAY_MS - 1);
    assert.equal(q.length(), 2, 'both after the clamp');
  });

  it('a later delay does not postpone an earlier one; shut down cancels pending delays', () => {
    const clock = new ManualScheduler();
    const q = new WorkQueue(undefined, clock);
    q.addAfter('a', 50);
    q.addAfter('a', 500);
    clock.advance(50);
    assert.equal(q.length(), 1);
    q.addAfter('b', 10);
    q.shutDown();
    clock.advance(100);
    assert.equal(q.length(), 1, 'b was never added');
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
