// A pass that ended in an error still writes its one status: the error is folded into the summary conditions
// (sail-operator's doReconcile then updateStatus(err)), so `kubectl describe` says what went wrong, and the
// error is then rethrown for the requeue decision.
import type { IstioUpgradeStatus } from '../api/schema.ts';
import { conditionWriter, markReconciling, markStalled } from './conditions.ts';
import { StalledError, WaitingError } from './errors.ts';
import { reasonKind } from './reasons.ts';

export function foldError(status: IstioUpgradeStatus, generation: number, error: unknown, now: Date): IstioUpgradeStatus {
  const writer = conditionWriter(status, generation, now);
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof StalledError) markStalled(writer, error.reason, message);
  else if (error instanceof WaitingError) {
    if (reasonKind(error.reason) === 'blocked') markStalled(writer, error.reason, message);
    else markReconciling(writer, error.reason, message);
  } else {
    // Transient: the phase goes on; say what is being retried, without claiming a person is needed.
    markReconciling(writer, 'RetryingAfterError', `retrying after an error: ${message}`);
  }
  return { ...status, conditions: writer.conditions };
}
