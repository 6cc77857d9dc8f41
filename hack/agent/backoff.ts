// Exponential backoff with a cap, like the kubelet's CrashLoopBackOff: a crashing child or a failing watch is retried
// quickly at first and then at most every `maxMs`, and a long healthy run resets it.

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A run that lasted at least this long counts as healthy and resets the delay. */
  readonly resetAfterMs: number;
}

export class Backoff {
  readonly #options: BackoffOptions;
  #nextMs: number;

  constructor(options: BackoffOptions) {
    this.#options = options;
    this.#nextMs = options.initialMs;
  }

  /** The delay before the next attempt, given how long the previous attempt lasted. */
  next(lastRunMs: number): number {
    if (lastRunMs >= this.#options.resetAfterMs) this.#nextMs = this.#options.initialMs;
    const delay = this.#nextMs;
    this.#nextMs = Math.min(this.#nextMs * 2, this.#options.maxMs);
    return delay;
  }

  reset(): void {
    this.#nextMs = this.#options.initialMs;
  }
}
