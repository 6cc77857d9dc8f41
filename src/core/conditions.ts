// metav1.Condition helpers: lastTransitionTime moves only when status changes; the summary conditions
// (Ready, Reconciling, Stalled) are always set together by one mark helper, so they never contradict.
import type { Condition, ConditionType } from '../api/schema.ts';
import type { Reason } from './reasons.ts';

export type ConditionStatus = Condition['status'];

export interface ConditionUpdate {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: Reason;
  readonly message: string;
}

export function findCondition(conditions: readonly Condition[], type: ConditionType): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[], type: ConditionType): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Returns a new list with the condition set; keeps lastTransitionTime unless the status changed. */
export function setCondition(
  conditions: readonly Condition[],
  update: ConditionUpdate,
  observedGeneration: number,
  now: Date,
): Condition[] {
  const existing = findCondition(conditions, update.type);
  const lastTransitionTime =
    existing !== undefined && existing.status === update.status ? existing.lastTransitionTime : now.toISOString();
  const next: Condition = { ...update, observedGeneration, lastTransitionTime };
  return existing === undefined
    ? [...conditions, next]
    : conditions.map((c) => (c.type === update.type ? next : c));
}

/** Anything that can set a condition: a planning Draft, or a status being folded outside the planner. */
export interface ConditionWriter {
  setCondition(type: ConditionType, status: ConditionStatus, reason: Reason, message: string): void;
}

/** Succeeded: Ready, nothing left to do. */
export function markReady(w: ConditionWriter, reason: Reason, message: string): void {
  w.setCondition('Ready', 'True', reason, message);
  w.setCondition('Reconciling', 'False', reason, message);
  w.setCondition('Stalled', 'False', reason, message);
}

/** Work under way (or an expected wait the operator drives itself, e.g. an approval). */
export function markReconciling(w: ConditionWriter, reason: Reason, message: string): void {
  w.setCondition('Ready', 'False', reason, message);
  w.setCondition('Reconciling', 'True', reason, message);
  w.setCondition('Stalled', 'False', 'Progressing', message);
}

/** A person is needed: failed, rolled back, or blocked by something only a person can change. */
export function markStalled(w: ConditionWriter, reason: Reason, message: string): void {
  w.setCondition('Ready', 'False', reason, message);
  w.setCondition('Reconciling', 'False', reason, message);
  w.setCondition('Stalled', 'True', reason, message);
}

/** Neither working nor stuck: queued behind another upgrade, or paused on purpose. */
export function markIdle(w: ConditionWriter, reason: Reason, message: string): void {
  w.setCondition('Ready', 'False', reason, message);
  w.setCondition('Reconciling', 'False', reason, message);
  w.setCondition('Stalled', 'False', reason, message);
}

/** A ConditionWriter over a copy of a status, for the reconciler's folding of errors into the one write. */
export function conditionWriter(
  base: { conditions?: Condition[] | undefined },
  observedGeneration: number,
  now: Date,
): ConditionWriter & { readonly conditions: Condition[] } {
  let conditions = base.conditions ?? [];
  return {
    get conditions() {
      return conditions;
    },
    setCondition(type, status, reason, message) {
      conditions = setCondition(conditions, { type, status, reason, message }, observedGeneration, now);
    },
  };
}
