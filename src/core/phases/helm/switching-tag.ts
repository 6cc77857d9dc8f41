// SwitchingTag in helm mode: the tag moves from the old istiod release's revisionTags to the new release's, once
// the new istiod is Ready, so that no later `helm upgrade` of either release deletes or reverts it.
import type { Draft } from '../../draft.ts';
import { formatDuration, parseDuration } from '../../duration.ts';
import { newIstiodRelease } from '../../helm-jobs.ts';
import { istiodRelease, owningRelease, tagObjects } from '../../helm-release.ts';
import { fail, next, working, type StepOutcome } from '../../step.ts';
import { injectorPointsAt } from '../../tag-moves.ts';
import { handOverTag } from './tag-handover.ts';

export function switchingTagWithHelm(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const tag = spec.tag;
  const to = draft.toRevision;
  const taker = { release: newIstiodRelease(spec, to), chartVersion: spec.version };
  const owner = owningRelease(tagObjects(observed, tag)?.webhook ?? { labels: {}, annotations: {} })?.name;
  const since = draft.condition('TagSwitched')?.status === 'False' ? draft.sinceTransition('TagSwitched') : 0;
  const timeoutMs = parseDuration(spec.rollout.workloadTimeout);
  if (since > timeoutMs) return fail('TagSwitchTimeout', `tag "${tag}" does not point at revision ${to} through release ${taker.release} ${formatDuration(since)} after the switch began`);

  const newState = observed.revisions.find((r) => r.revision === to);
  if (owner !== taker.release && newState?.ready !== true) {
    if (newState === undefined) return fail('RevisionLost', `istiod of revision ${to} disappeared before tag "${tag}" moved`);
    const message = `not moving tag "${tag}" yet: the istiod of revision ${to} is not Ready`;
    draft.setCondition('TagSwitched', 'False', 'WaitingForRevision', message);
    return working('WaitingForRevision', message);
  }
  const giver = istiodRelease(observed.revisions.find((r) => r.revision === draft.status.fromRevision));
  if (giver === undefined) return fail('InstallerMismatch', `the istiod Deployment of revision ${draft.status.fromRevision ?? '?'} no longer carries its Helm release marks; cannot take tag "${tag}" from its revisionTags`);
  const step = handOverTag(draft, { tag, giver, taker, takeJob: 'tag-new', giveJob: 'tag-old', reason: 'Switching', failure: 'TagSwitchTimeout' });
  if (step !== undefined) {
    if (step.kind === 'wait') draft.setCondition('TagSwitched', 'False', 'Switching', step.hold.message);
    return step;
  }
  if (!injectorPointsAt(draft, tag, to)) {
    const message = `release ${taker.release} renders tag "${tag}" but its webhook does not send pods to revision ${to} yet`;
    draft.setCondition('TagSwitched', 'False', 'Switching', message);
    return working('Switching', message);
  }
  draft.setCondition('TagSwitched', 'True', 'TagSwitched', `tag "${tag}" points at revision ${to}, rendered by release ${taker.release}`);
  return next('UpgradingGateways', `tag "${tag}" now points at ${to} (release ${taker.release})`);
}
