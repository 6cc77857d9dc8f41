// The contract between plan() and the one-file-per-phase steps, and the named ways a step can wait.
import type { Phase } from '../api/schema.ts';
import type { Action } from './actions.ts';
import type { Draft } from './draft.ts';
import type { Reason } from './reasons.ts';

/** Why a pass made no progress, for the Reconciling/Stalled summary conditions. */
export type HoldKind =
  /** The operator is driving something and looks again soon. */
  | 'working'
  /** Waits on something only a person can change (a pinned pod, a forbidden call): Stalled. */
  | 'blocked'
  /** A wave waits for its approval annotation: a person is expected, but nothing is wrong. */
  | 'approval'
  /** Another upgrade goes first. */
  | 'queued'
  /** spec.paused: halted before the next action. */
  | 'paused';

export interface Hold {
  readonly kind: HoldKind;
  readonly reason: Reason;
  readonly message: string;
}

export type StepOutcome =
  /** Move to another phase now and keep planning in this pass; one Event tells it (reason: `event`, else the phase). */
  | { readonly kind: 'next'; readonly phase: Phase; readonly message: string; readonly event: Reason | undefined }
  /** Stay: carry out these actions (possibly none) and look again later. */
  | { readonly kind: 'wait'; readonly actions: readonly Action[]; readonly requeueAfterMs: number; readonly hold: Hold }
  /** Something went wrong; plan() decides between rolling back and failing. */
  | { readonly kind: 'fail'; readonly reason: Reason; readonly message: string }
  /** A terminal phase: nothing more will ever be done. */
  | { readonly kind: 'done' };

export type Step = (draft: Draft) => StepOutcome;

/** How soon to look again, by what is being waited for. */
export const REQUEUE = {
  /** A write that takes effect at once (tag webhook, Job creation). */
  soon: 5_000,
  /** A rollout or a Job under way. */
  poll: 15_000,
  /** Something a person or another upgrade must do; informer events wake the upgrade earlier anyway. */
  idle: 60_000,
} as const;

export function next(phase: Phase, message: string, event?: Reason): StepOutcome {
  return { kind: 'next', phase, message, event };
}

export function fail(reason: Reason, message: string): StepOutcome {
  return { kind: 'fail', reason, message };
}

export function working(reason: Reason, message: string, actions: readonly Action[] = [], requeueAfterMs: number = REQUEUE.poll): StepOutcome {
  return { kind: 'wait', actions, requeueAfterMs, hold: { kind: 'working', reason, message } };
}

export function blocked(reason: Reason, message: string, requeueAfterMs: number = REQUEUE.poll): StepOutcome {
  return { kind: 'wait', actions: [], requeueAfterMs, hold: { kind: 'blocked', reason, message } };
}

export function queued(reason: Reason, message: string): StepOutcome {
  return { kind: 'wait', actions: [], requeueAfterMs: REQUEUE.idle, hold: { kind: 'queued', reason, message } };
}

export function paused(message: string): StepOutcome {
  return { kind: 'wait', actions: [], requeueAfterMs: REQUEUE.idle, hold: { kind: 'paused', reason: 'Paused', message } };
}

export function awaitingApproval(message: string): StepOutcome {
  return { kind: 'wait', actions: [], requeueAfterMs: REQUEUE.idle, hold: { kind: 'approval', reason: 'AwaitingApproval', message } };
}
