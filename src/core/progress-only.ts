// Whether a new status differs from the one written only in how far the rollout has got: the workload counters,
// the printer column and the condition messages that quote them. Such a change may wait a moment to be written
// (the controller batches them, at most one write a second); anything else (a phase, a wave, a condition's
// status or reason, a soak result) is written at once. At a few rollouts a second, one status write per finished
// workload kept the only worker busy and the next namespace waiting.
import type { IstioUpgradeStatus } from '../api/schema.ts';

export function differsOnlyInProgress(written: IstioUpgradeStatus, next: IstioUpgradeStatus): boolean {
  return sameJson(withoutProgress(written), withoutProgress(next));
}

function withoutProgress(status: IstioUpgradeStatus): unknown {
  return { ...status, workloads: undefined, upgraded: undefined, conditions: status.conditions?.map((condition) => ({ ...condition, message: undefined })) };
}

/** Deep equality of JSON values (key order ignored; undefined members count as absent). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  const left = Object.entries(a).filter(([, v]) => v !== undefined);
  const right = new Map(Object.entries(b).filter(([, v]) => v !== undefined));
  return left.length === right.size && left.every(([k, v]) => right.has(k) && sameJson(v, right.get(k)));
}
