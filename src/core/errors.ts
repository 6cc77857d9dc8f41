// The three error classes that decide requeueing, in one place (DESIGN.md §3).

/** Needs a person: no retry until the object changes. */
export class StalledError extends Error {
  override readonly name = 'StalledError';
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** An expected wait: look again after the given delay. */
export class WaitingError extends Error {
  override readonly name = 'WaitingError';
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** Something that may work on retry (API conflict, timeout, network): back off exponentially. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

export type RequeueDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'after'; readonly delayMs: number }
  | { readonly kind: 'backoff' };

/** Stalled: never retry; Waiting: after its delay; anything else counts as transient and backs off. */
export function requeueFor(error: unknown): RequeueDecision {
  if (error instanceof StalledError) return { kind: 'none' };
  if (error instanceof WaitingError) return { kind: 'after', delayMs: error.retryAfterMs };
  return { kind: 'backoff' };
}
