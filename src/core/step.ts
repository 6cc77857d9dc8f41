// The contract between plan() and the one-file-per-phase steps.
import type { Phase } from '../api/schema.ts';
import type { Action } from './actions.ts';
import type { Draft } from './draft.ts';

/** Why a pass made no progress, for the Reconciling/Stalled summary conditions. */
export type Hold =
  | { readonly kind: 'working'; readonly reason: string; readonly message: string }
  /** Waits on something only a person can change (a pinned pod, an approval is not this: it is `approval`). */
  | { readonly kind: 'blocked'; readonly reason: string; readonly message: string }
  | { readonly kind: 'approval'; readonly reason: string; readonly message: string }
  | { readonly kind: 'queued'; readonly reason: string; readonly message: string };

export type StepOutcome =
  /** Move to another phase now and keep planning in this pass. */
  | { readonly kind: 'next'; readonly phase: Phase; readonly message: string }
  /** Stay: carry out these actions (possibly none) and look again later. */
  | { readonly kind: 'wait'; readonly actions: readonly Action[]; readonly requeueAfterMs: number; readonly hold: Hold }
  /** Something went wrong; plan() decides between rolling back and failing. */
  | { readonly kind: 'fail'; readonly reason: string; readonly message: string }
  /** A terminal phase: nothing more will ever be done. */
  | { readonly kind: 'done' };

export type Step = (draft: Draft) => StepOutcome;

export const SHORT_REQUEUE_MS = 5_000;
export const POLL_REQUEUE_MS = 15_000;
export const LONG_REQUEUE_MS = 60_000;

export function next(phase: Phase, message: string): StepOutcome {
  return { kind: 'next', phase, message };
}

export function fail(reason: string, message: string): StepOutcome {
  return { kind: 'fail', reason, message };
}

export function working(reason: string, message: string, actions: readonly Action[] = [], requeueAfterMs = POLL_REQUEUE_MS): StepOutcome {
  return { kind: 'wait', actions, requeueAfterMs, hold: { kind: 'working', reason, message } };
}
