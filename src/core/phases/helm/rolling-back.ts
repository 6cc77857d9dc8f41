// RollingBack in helm mode: the tag goes back to the old release's revisionTags (the same handover, reversed),
// then every gateway release this upgrade moved is `helm rollback`-ed to its previous Helm revision, and waited for
// until its pods run the old revision again.
import type { Draft } from '../../draft.ts';
import { formatDuration, parseDuration } from '../../duration.ts';
import { gatewayReleases, helmContext, newIstiodRelease, rollbackGatewayJob, setRevisionTagsJob, upgradeGatewayJob } from '../../helm-jobs.ts';
import { istiodRelease, keptByPolicy, owningRelease, tagObjects } from '../../helm-release.ts';
import { driveJob } from '../../job-step.ts';
import { REQUEUE, fail, working, type StepOutcome } from '../../step.ts';
import { awaitGatewayPods } from './gateway-releases.ts';
import { handOverTag, resourcePolicy } from './tag-handover.ts';

/** Undefined once the old release renders the tag again (or never gave it up). */
export function tagBackWithHelm(draft: Draft, old: string, elapsedMs: number): StepOutcome | undefined {
  const { spec, observed } = draft;
  const tag = spec.tag;
  const objects = tagObjects(observed, tag);
  if (objects === undefined) return undefined;
  const newRelease = newIstiodRelease(spec, draft.toRevision);
  const ctx = helmContext(draft);
  const tagNewJob = setRevisionTagsJob(ctx, 'tag-new', { release: newRelease, chartVersion: spec.version }, [tag]).jobName;
  const moved = owningRelease(objects.webhook)?.name === newRelease || observed.jobs.some((j) => j.name === tagNewJob);
  if (!moved) {
    // Marked before the switch's first Job, then the upgrade failed: only the mark is left to remove.
    return keptByPolicy(objects) ? working('RollingBack', `removing the helm.sh/resource-policy=keep marks from tag "${tag}"`, [resourcePolicy(draft, tag, objects, false)], REQUEUE.soon) : undefined;
  }
  const oldState = observed.revisions.find((r) => r.revision === old);
  const giverAt = { release: newRelease, chartVersion: spec.version };
  const takerAt = istiodRelease(oldState);
  if (takerAt === undefined || oldState?.ready !== true) {
    const timeoutMs = parseDuration(spec.rollout.workloadTimeout);
    const why = takerAt === undefined ? `the istiod Deployment of revision ${old} is missing or lost its Helm release marks` : `the istiod of revision ${old} is not Ready`;
    if (elapsedMs > timeoutMs) return fail('RollbackFailed', `cannot give tag "${tag}" back to revision ${old} within ${spec.rollout.workloadTimeout}: ${why}`);
    const message = `waiting to give tag "${tag}" back to revision ${old}: ${why} (${formatDuration(timeoutMs - elapsedMs)} left)`;
    draft.setCondition('TagSwitched', 'False', 'WaitingForOldRevision', message);
    return working('WaitingForOldRevision', message, [], REQUEUE.soon);
  }
  const step = handOverTag(draft, { tag, giver: giverAt, taker: takerAt, takeJob: 'rollback-tag-old', giveJob: 'rollback-tag-new', reason: 'RollingBack', failure: 'RollbackFailed' });
  if (step?.kind === 'wait') draft.setCondition('TagSwitched', 'False', 'RollingBack', step.hold.message);
  return step;
}

/** Undefined once every gateway release this upgrade touched is rolled back and runs the old revision. */
export function rollBackGatewayReleases(draft: Draft, old: string): StepOutcome | undefined {
  const ctx = helmContext(draft);
  for (const gateway of gatewayReleases(draft.spec)) {
    const upgraded = draft.observed.jobs.some((j) => j.name === upgradeGatewayJob(ctx, gateway, false).jobName);
    if (!upgraded) continue;
    const action = rollbackGatewayJob(ctx, gateway);
    const running = driveJob(draft, action, { reason: 'RollingBack', doing: `rolling gateway release ${gateway.namespace}/${gateway.release} back`, failure: 'RollbackFailed' });
    if (running !== undefined) return running;
    const waiting = awaitGatewayPods(draft, gateway, old, action.jobName, 'RollbackFailed', 'RollingBack');
    if (waiting !== undefined) return waiting;
  }
  return undefined;
}
