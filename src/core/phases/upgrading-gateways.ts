// UpgradingGateways: restart the gateway Deployments in place; through the tag they get the new proxy.
import type { Draft } from '../draft.ts';
import { parseDuration } from '../duration.ts';
import { driveRestarts } from '../restarts.ts';
import { GATEWAYS_TARGET, soakNamespaces, startSoak } from '../soak.ts';
import { fail, next, working, type StepOutcome } from '../step.ts';

export function upgradingGateways(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  if (spec.gateways.length === 0) {
    draft.setCondition('GatewaysUpgraded', 'True', 'NoGateways', 'no gateways listed in spec.gateways');
    return next('RollingOut', 'no gateways to restart');
  }
  const gateways = spec.gateways.map((g) => observed.workloads.find((w) => w.kind === 'Deployment' && w.namespace === g.namespace && w.name === g.name));
  const missing = spec.gateways.filter((_, i) => gateways[i] === undefined);
  if (missing.length > 0) return fail('GatewayNotFound', `gateway Deployment ${missing.map((g) => `${g.namespace}/${g.name}`).join(', ')} disappeared`);

  const progress = driveRestarts(draft, gateways.filter((g) => g !== undefined), draft.toRevision, parseDuration(spec.rollout.workloadTimeout));
  if (progress.timedOut !== undefined) return fail('GatewayUpgradeTimeout', `gateway did not come up on revision ${draft.toRevision}: ${progress.timedOut}`);
  if (progress.upgraded === progress.total) {
    draft.setCondition('GatewaysUpgraded', 'True', 'GatewaysUpgraded', `${progress.total} gateway(s) run revision ${draft.toRevision}`);
    startSoak(draft, GATEWAYS_TARGET, soakNamespaces(draft.upgrade, GATEWAYS_TARGET), gateways.filter((g) => g !== undefined));
    return next('Soaking', `gateways upgraded; soaking for ${spec.soak.duration}`);
  }
  const message = `gateways: ${progress.upgraded}/${progress.total} on revision ${draft.toRevision}`;
  draft.setCondition('GatewaysUpgraded', 'False', 'RestartingGateways', message);
  return working('RestartingGateways', message, progress.actions);
}
