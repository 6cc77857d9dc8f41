// The status of an upgrade whose next action the cluster refused (e.g. RBAC forbids it): the phase stays,
// and Stalled says what a person must fix.
import type { IstioUpgrade, IstioUpgradeStatus } from '../api/schema.ts';
import { setCondition } from './conditions.ts';

export function blockedStatus(upgrade: IstioUpgrade, base: IstioUpgradeStatus, reason: string, message: string, now: Date): IstioUpgradeStatus {
  const generation = upgrade.metadata.generation;
  let conditions = base.conditions ?? [];
  conditions = setCondition(conditions, { type: 'Stalled', status: 'True', reason, message }, generation, now);
  conditions = setCondition(conditions, { type: 'Reconciling', status: 'False', reason, message }, generation, now);
  conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason, message }, generation, now);
  return { ...base, conditions };
}
