// RollingBack: point every tag this upgrade moved back at the old revision (still installed: it is only ever
// removed at the very end), then restart the gateways and every workload that moved, so they return to it.
// If the old istiod is briefly not Ready, wait for it (bounded by workloadTimeout) rather than give up with a
// mixed data plane. What a rollback does not restart (Jobs, bare pods, excluded namespaces) is listed.
import { MAX_LISTED } from '../../api/schema.ts';
import type { Draft } from '../draft.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { helmContext, newIstiodRelease, uninstallReleaseJob } from '../helm-jobs.ts';
import { findJob, installerJob } from '../installer-jobs.ts';
import { describeReferences, referencesTo } from '../inventory.ts';
import { driveRestarts } from '../restarts.ts';
import { REQUEUE, blocked, fail, next, working, type StepOutcome } from '../step.ts';
import { moveTag, tagPointsAt } from '../tag-moves.ts';
import { stampOf } from '../workloads.ts';
import { gatewayReleaseKeys } from './helm/gateway-releases.ts';
import { rollBackGatewayReleases, tagBackWithHelm } from './helm/rolling-back.ts';

/** After a complete rollback, the canary revision is removed when asked and nothing uses it. */
function removeNewRevision(draft: Draft, old: string): StepOutcome {
  const { spec, observed } = draft;
  const to = draft.toRevision;
  const done = `tags "${draft.tags.join('", "')}" and every moved workload are back on revision ${old}`;
  if (!spec.rollback.removeNewRevision || spec.installer.mode === 'external' || draft.status.adoptedRevision === true) return next('RolledBack', done);
  const action =
    spec.installer.mode === 'helm'
      ? uninstallReleaseJob(helmContext(draft), 'uninstall-new', newIstiodRelease(spec, to))
      : installerJob(draft.upgrade.metadata, spec, { purpose: 'uninstall-new', revision: to, istioNamespace: observed.istioNamespace, allowedImages: observed.allowedInstallerImages });
  const job = findJob(observed.jobs, action.jobName);
  // The uninstall deletes istiod before it has finished removing the rest: its Job, not the Deployment, ends it.
  const present = observed.revisions.some((r) => r.revision === to);
  if (job?.outcome !== 'Running' && !present) return next('RolledBack', job === undefined ? done : `${done}; revision ${to} removed`);
  if (job === undefined) {
    const refs = referencesTo(to, observed);
    if (refs.length > 0) return blocked('RevisionInUse', `${done}; revision ${to} is not removed while it is used by ${describeReferences(refs)}`);
    return working('RemovingNewRevision', `${done}; removing revision ${to} (rollback.removeNewRevision) with Job ${action.jobName}`, [action]);
  }
  if (job.outcome === 'Running') return working('RemovingNewRevision', `waiting for Job ${job.name} (${action.tool} ${action.args.join(' ')})`);
  if (job.outcome === 'Failed') return fail('RollbackFailed', `removing revision ${to} failed (Job ${job.name}): ${job.message ?? 'no output'}`);
  return next('RolledBack', `${done}; revision ${to} removed`);
}

export function rollingBack(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const old = draft.status.fromRevision;
  const to = draft.toRevision;
  if (old === undefined) return next('RolledBack', 'nothing had changed yet');
  const rollback = (draft.status.rollback ??= {});
  rollback.startedAt ??= draft.now.toISOString();
  const timeoutMs = parseDuration(spec.rollout.workloadTimeout);
  const elapsed = draft.nowMs - Date.parse(rollback.startedAt);

  const helm = spec.installer.mode === 'helm';
  if (helm) {
    const back = tagBackWithHelm(draft, old, elapsed);
    if (back !== undefined) return back;
  }
  for (const tag of helm ? [] : draft.tags) {
    if (tagPointsAt(draft, tag, old)) continue;
    const current = observed.mutatingWebhooks.find((w) => w.labels['istio.io/tag'] === tag);
    if (current === undefined) continue;
    const move = moveTag(draft, tag, old);
    if (!move.ok) {
      if (elapsed > timeoutMs) return fail('RollbackFailed', `cannot point tag "${tag}" back at ${old} within ${spec.rollout.workloadTimeout}: ${move.reason}`);
      const message = `waiting to point tag "${tag}" back at ${old}: ${move.reason} (${formatDuration(timeoutMs - elapsed)} left)`;
      draft.setCondition('TagSwitched', 'False', 'WaitingForOldRevision', message);
      return working('WaitingForOldRevision', message, [], REQUEUE.soon);
    }
    draft.setCondition('TagSwitched', 'False', 'RollingBack', `moving tag "${tag}" back to revision ${old}`);
    return working('RollingBack', `moving tag "${tag}" back to revision ${old}`, [move.action], REQUEUE.soon);
  }
  const switched = draft.condition('TagSwitched');
  if (switched !== undefined && (switched.status === 'True' || switched.reason !== 'RolledBack')) {
    draft.setCondition('TagSwitched', 'False', 'RolledBack', `tag(s) "${draft.tags.join('", "')}" point at revision ${old} again`);
  }

  if (helm) {
    const gatewaysBack = rollBackGatewayReleases(draft, old);
    if (gatewaysBack !== undefined) return gatewaysBack;
  }

  // Everything that moved: stamped by this upgrade (either way) or running the new proxy. Gateway releases went
  // back with helm rollback, which rolled them already.
  const helmGateways = helm ? gatewayReleaseKeys(draft) : new Set<string>();
  const gatewayKeys = new Set(spec.gateways.map((g) => `${g.namespace}/${g.name}`));
  const ours = new Set([draft.stamp(to), draft.stamp(old)]);
  const restartable = draft.view.workloads.filter((s) => s.scope.move || gatewayKeys.has(`${s.workload.namespace}/${s.workload.name}`)).map((s) => s.workload);
  const moved = restartable.filter((w) => !helmGateways.has(`${w.namespace}/${w.name}`)).filter((w) => {
    const stamp = stampOf(w);
    return (stamp !== undefined && ours.has(stamp)) || w.pods.some((p) => p.injectedRevision === to && !p.terminating);
  });
  const restartableKeys = new Set(restartable.map((w) => `${w.namespace}/${w.name}`));
  const leftBehind = [
    ...draft.view.workloads.filter((s) => !restartableKeys.has(`${s.workload.namespace}/${s.workload.name}`)).flatMap((s) =>
      s.workload.pods.filter((p) => p.injectedRevision === to && !p.terminating && p.phase !== 'Succeeded' && p.phase !== 'Failed').map((p) => `${p.namespace}/${p.name} (${s.scope.move ? 'moved' : s.scope.detail})`),
    ),
    ...draft.view.otherPods.filter((s) => s.pod.injectedRevision === to && !s.pod.terminating && s.pod.phase !== 'Succeeded' && s.pod.phase !== 'Failed').map((s) => `${s.pod.namespace}/${s.pod.name} (${s.scope.detail})`),
  ].sort();
  if (leftBehind.length > 0) {
    rollback.notMovedBack = leftBehind.slice(0, MAX_LISTED);
    rollback.notMovedBackCount = leftBehind.length;
  } else {
    delete rollback.notMovedBack;
    delete rollback.notMovedBackCount;
  }

  const progress = driveRestarts(draft, moved, old, timeoutMs);
  if (progress.timedOut !== undefined) return fail('RollbackFailed', `rollback stuck: ${progress.timedOut}`);
  if (progress.upgraded === progress.total) return removeNewRevision(draft, old);
  return working('RollingBack', `rolling back: ${progress.upgraded}/${progress.total} workloads on revision ${old}${leftBehind.length > 0 ? `; not restarted by the rollback: ${leftBehind.slice(0, 5).join(', ')}` : ''}`, progress.actions, 10_000);
}
