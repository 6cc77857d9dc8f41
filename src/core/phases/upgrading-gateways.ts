// UpgradingGateways: in helm mode, first `helm upgrade` the gateway releases (installer.helm.gateways); then
// restart the gateway Deployments of spec.gateways in place: through the tag they get the new proxy.
import type { Draft } from '../draft.ts';
import { parseDuration } from '../duration.ts';
import { gatewayReleases } from '../helm-jobs.ts';
import { driveRestarts } from '../restarts.ts';
import { GATEWAYS_TARGET, soakNamespaces, startSoak } from '../soak.ts';
import { fail, next, working, type StepOutcome } from '../step.ts';
import { releaseDeployments, upgradeGatewayReleases } from './helm/gateway-releases.ts';

export function upgradingGateways(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const releases = spec.installer.mode === 'helm' ? gatewayReleases(spec) : [];
  if (spec.gateways.length === 0 && releases.length === 0) {
    draft.setCondition('GatewaysUpgraded', 'True', 'NoGateways', 'no gateways listed in spec.gateways');
    return next('RollingOut', 'no gateways to restart');
  }
  if (releases.length > 0) {
    const helm = upgradeGatewayReleases(draft);
    if (helm !== undefined) {
      if (helm.kind === 'wait') draft.setCondition('GatewaysUpgraded', 'False', 'UpgradingGatewayReleases', helm.hold.message);
      return helm;
    }
  }
  const gateways = spec.gateways.map((g) => observed.workloads.find((w) => w.kind === 'Deployment' && w.namespace === g.namespace && w.name === g.name));
  const missing = spec.gateways.filter((_, i) => gateways[i] === undefined);
  if (missing.length > 0) return fail('GatewayNotFound', `gateway Deployment ${missing.map((g) => `${g.namespace}/${g.name}`).join(', ')} disappeared`);

  const restarted = gateways.filter((g) => g !== undefined);
  const progress = driveRestarts(draft, restarted, draft.toRevision, parseDuration(spec.rollout.workloadTimeout));
  if (progress.timedOut !== undefined) return fail('GatewayUpgradeTimeout', `gateway did not come up on revision ${draft.toRevision}: ${progress.timedOut}`);
  if (progress.upgraded === progress.total) {
    const all = [...releases.flatMap((g) => releaseDeployments(draft, g)), ...restarted];
    draft.setCondition('GatewaysUpgraded', 'True', 'GatewaysUpgraded', `${all.length} gateway(s) run revision ${draft.toRevision}`);
    startSoak(draft, GATEWAYS_TARGET, soakNamespaces(draft.upgrade, GATEWAYS_TARGET), all);
    return next('Soaking', `gateways upgraded; soaking for ${spec.soak.duration}`);
  }
  const message = `gateways: ${progress.upgraded}/${progress.total} on revision ${draft.toRevision}`;
  draft.setCondition('GatewaysUpgraded', 'False', 'RestartingGateways', message);
  return working('RestartingGateways', message, progress.actions);
}
