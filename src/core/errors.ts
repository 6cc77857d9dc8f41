// The three error classes that decide requeueing, in one place: Stalled (needs a person, no retry), Waiting
// (requeue after a delay), Transient (backoff). Each carries the reason the status reports.
import type { Reason } from './reasons.ts';

/** Needs a person: no retry until the object changes. */
export class StalledError extends Error {
  override readonly name = 'StalledError';
  readonly reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** An expected wait: look again after the given delay. */
export class WaitingError extends Error {
  override readonly name = 'WaitingError';
  readonly retryAfterMs: number;
  readonly reason: Reason;
  constructor(reason: Reason, message: string, retryAfterMs: number) {
    super(message);
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Something that may work on retry (API conflict, timeout, network): back off exponentially. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  /** The server asked for this delay (429 Retry-After). */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export type RequeueDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'after'; readonly delayMs: number }
  | { readonly kind: 'backoff'; readonly atLeastMs: number };

/** Stalled: never retry; Waiting: after its delay; anything else counts as transient and backs off. */
export function requeueFor(error: unknown): RequeueDecision {
  if (error instanceof StalledError) return { kind: 'none' };
  if (error instanceof WaitingError) return { kind: 'after', delayMs: error.retryAfterMs };
  return { kind: 'backoff', atLeastMs: error instanceof TransientError ? (error.retryAfterMs ?? 0) : 0 };
}
