// Gateway releases in helm mode: `helm upgrade` each named release of the gateway chart to the target version, one
// after the other. The chart version is in the pod template's labels, so the upgrade rolls the gateway, and its new
// pods are injected through the tag, which already points at the new revision. Then wait for them.
import type { Draft } from '../../draft.ts';
import { parseDuration } from '../../duration.ts';
import { gatewayReleases, helmContext, upgradeGatewayJob, type GatewayRelease } from '../../helm-jobs.ts';
import { owningRelease } from '../../helm-release.ts';
import { driveJob } from '../../job-step.ts';
import type { WorkloadState } from '../../observed.ts';
import type { Reason } from '../../reasons.ts';
import { describeStuck } from '../../restarts.ts';
import { fail, working, type StepOutcome } from '../../step.ts';
import { workloadOnRevision } from '../../workloads.ts';

/** The Deployments a gateway release renders (meta.helm.sh/release-name on them). */
export function releaseDeployments(draft: Draft, gateway: Pick<GatewayRelease, 'namespace' | 'release'>): WorkloadState[] {
  return draft.observed.workloads.filter((w) => w.kind === 'Deployment' && w.namespace === gateway.namespace && owningRelease(w)?.name === gateway.release);
}

/** Every Deployment of every gateway release, as namespace/name keys. */
export function gatewayReleaseKeys(draft: Draft): Set<string> {
  return new Set(gatewayReleases(draft.spec).flatMap((g) => releaseDeployments(draft, g).map((w) => `${w.namespace}/${w.name}`)));
}

/** Waits for a Job's gateway Deployments to run `revision` only; bounded by workloadTimeout after the Job ended. */
export function awaitGatewayPods(draft: Draft, gateway: GatewayRelease, revision: string, jobName: string, failure: Reason, reason: Reason): StepOutcome | undefined {
  const deployments = releaseDeployments(draft, gateway);
  if (deployments.length === 0) return fail('GatewayNotFound', `release ${gateway.release} in namespace ${gateway.namespace} renders no Deployment any more`);
  const behind = deployments.filter((w) => !workloadOnRevision(w, revision));
  if (behind.length === 0) return undefined;
  const job = draft.observed.jobs.find((j) => j.name === jobName);
  const endedMs = job?.completedAt === undefined ? draft.nowMs : Date.parse(job.completedAt);
  const stuck = behind.map((w) => describeStuck(w, revision)).join('; ');
  if (draft.nowMs - endedMs > parseDuration(draft.spec.rollout.workloadTimeout)) return fail(failure, `gateway release ${gateway.release} is not on revision ${revision} ${draft.spec.rollout.workloadTimeout} after Job ${jobName}: ${stuck}`);
  return working(reason, `gateway release ${gateway.release}: waiting for ${stuck}`);
}

/** Undefined once every gateway release runs the new revision. */
export function upgradeGatewayReleases(draft: Draft): StepOutcome | undefined {
  const to = draft.toRevision;
  const ctx = helmContext(draft);
  for (const gateway of gatewayReleases(draft.spec)) {
    const action = upgradeGatewayJob(ctx, gateway, false);
    const running = driveJob(draft, action, { reason: 'UpgradingGatewayReleases', doing: `upgrading gateway release ${gateway.namespace}/${gateway.release} to chart ${draft.spec.version}`, failure: 'GatewayUpgradeTimeout' });
    if (running !== undefined) return running;
    const waiting = awaitGatewayPods(draft, gateway, to, action.jobName, 'GatewayUpgradeTimeout', 'UpgradingGatewayReleases');
    if (waiting !== undefined) return waiting;
  }
  return undefined;
}
