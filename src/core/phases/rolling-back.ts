// RollingBack: point the tag back at the old revision (still installed and Ready: it is only ever removed
// at the very end), then restart the gateways and every workload that moved, so they return to it.
import type { Draft } from '../draft.ts';
import { parseDuration } from '../duration.ts';
import { driveRestarts } from '../restarts.ts';
import { fail, next, type StepOutcome } from '../step.ts';
import { tagNamespaces } from '../waves.ts';
import { classifyWorkload, stampOf } from '../workloads.ts';
import { moveTag, tagPointsAt } from './switching-tag.ts';

export function rollingBack(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const old = draft.fromRevision;
  const to = draft.toRevision;
  if (old === undefined) return next('RolledBack', 'nothing had changed yet');

  if (!tagPointsAt(draft, old)) {
    const move = moveTag(draft, old);
    if (!move.ok) return fail('RollbackFailed', `cannot point tag "${spec.tag}" back at ${old}: ${move.reason}`);
    draft.setCondition('TagSwitched', 'False', 'RollingBack', `moving tag "${spec.tag}" back to revision ${old}`);
    return move.step;
  }
  if (draft.condition('TagSwitched')?.status === 'True' || draft.condition('TagSwitched')?.reason === 'RollingBack') {
    draft.setCondition('TagSwitched', 'False', 'RolledBack', `tag "${spec.tag}" points at revision ${old} again`);
  }

  // Everything that moved: stamped by this upgrade (either way) or running the new proxy.
  const namespaces = new Set(tagNamespaces(observed.namespaces, spec).map((n) => n.name));
  const gatewayKeys = new Set(spec.gateways.map((g) => `${g.namespace}/${g.name}`));
  const ours = new Set([draft.stamp(to), draft.stamp(old)]);
  const moved = observed.workloads.filter((w) => {
    const gateway = w.kind === 'Deployment' && gatewayKeys.has(`${w.namespace}/${w.name}`);
    if (!gateway && (!namespaces.has(w.namespace) || !classifyWorkload(w, spec.tag).restart)) return false;
    const stamp = stampOf(w);
    return (stamp !== undefined && ours.has(stamp)) || w.pods.some((p) => p.injectedRevision === to && !p.terminating);
  });

  const progress = driveRestarts(draft, moved, old, parseDuration(spec.rollout.workloadTimeout));
  if (progress.timedOut !== undefined) return fail('RollbackFailed', `rollback stuck: ${progress.timedOut}`);
  if (progress.upgraded === progress.total) return next('RolledBack', `tag "${spec.tag}" and ${progress.total} workload(s) are back on revision ${old}`);
  return {
    kind: 'wait',
    actions: progress.actions,
    requeueAfterMs: 10_000,
    hold: { kind: 'working', reason: 'RollingBack', message: `rolling back: ${progress.upgraded}/${progress.total} workloads on revision ${old}` },
  };
}
