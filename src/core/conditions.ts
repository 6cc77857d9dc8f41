// metav1.Condition helpers: lastTransitionTime moves only when status changes.
import type { Condition, ConditionType } from '../api/schema.ts';

export type ConditionStatus = Condition['status'];

export interface ConditionUpdate {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: string;
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
