// A keyed, de-duplicating work queue (client-go's model): a key is queued at most once, never handed to two
// workers at once, and re-queued once if it changed while being processed. Delayed adds and per-key
// exponential backoff live here too.

export interface BackoffSettings {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Time and timers, injected so that tests drive them instead of the wall clock. */
export interface Scheduler {
  now(): number;
  after(delayMs: number, fn: () => void): { cancel(): void };
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  after: (delayMs, fn) => {
    const timer = setTimeout(fn, delayMs);
    timer.unref();
    return {
      cancel: () => {
        clearTimeout(timer);
      },
    };
  },
};

/** The longest a delayed add waits; longer requests (e.g. a 720h grace period) are looked at again after this. */
export const MAX_DELAY_MS = 3_600_000;

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: { cancel(): void } }>();
  private readonly failures = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private shuttingDown = false;
  private readonly backoff: BackoffSettings;
  private readonly scheduler: Scheduler;

  constructor(backoff: BackoffSettings = { baseMs: 1_000, maxMs: 300_000 }, scheduler: Scheduler = realScheduler) {
    this.backoff = backoff;
    this.scheduler = scheduler;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.processing.has(key)) {
      this.queue.push(key);
      this.wake();
    }
  }

  /** Adds the key after a delay; an earlier pending delayed add wins. */
  addAfter(key: string, requestedMs: number): void {
    if (this.shuttingDown) return;
    if (!(requestedMs > 0)) {
      this.add(key);
      return;
    }
    // Clamped: a timer beyond 2^31-1 ms fires at once (a busy loop), and an hour is long enough to look again.
    const delayMs = Math.min(requestedMs, MAX_DELAY_MS);
    const at = this.scheduler.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending !== undefined && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.scheduler.after(delayMs, () => {
      this.timers.delete(key);
      this.add(key);
    });
    this.timers.set(key, { at, timer });
  }

  /** Exponential backoff per key: base, 2*base, 4*base ... up to max (at least `atLeastMs`). Returns the delay used. */
  addRateLimited(key: string, atLeastMs = 0): number {
    const attempts = this.failures.get(key) ?? 0;
    this.failures.set(key, attempts + 1);
    const delay = Math.max(atLeastMs, Math.min(this.backoff.baseMs * 2 ** attempts, this.backoff.maxMs));
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key, or undefined once shut down. */
  async get(): Promise<string | undefined> {
    for (;;) {
      if (this.shuttingDown) return undefined;
      const key = this.queue.shift();
      if (key !== undefined) {
        this.processing.add(key);
        this.dirty.delete(key);
        return key;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.queue.push(key);
      this.wake();
    }
  }

  length(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) timer.cancel();
    this.timers.clear();
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
