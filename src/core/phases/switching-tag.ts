// SwitchingTag: point the revision tag at the new revision, only once its istiod is Ready, so new pods are
// never sent to a webhook that cannot answer. Bounded: a tag that does not take within workloadTimeout (a
// missing istiod, another writer reverting it) fails instead of re-applying forever. Helm mode moves it between
// the releases' revisionTags instead (helm/switching-tag.ts).
import type { Draft } from '../draft.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { REQUEUE, fail, next, working, type StepOutcome } from '../step.ts';
import { newIstiodRelease } from '../helm-jobs.ts';
import { injectorPointsAt, moveTag, tagPointsAt } from '../tag-moves.ts';
import { switchingTagWithHelm } from './helm/switching-tag.ts';

/** Moves one tag onto the new revision; undefined once it points there. Shared with later waves' tags. */
export function switchTag(draft: Draft, tag: string): StepOutcome | undefined {
  const to = draft.toRevision;
  // Helm mode moved the tag in SwitchingTag through the releases; a wave only checks it (the guard reports reverts).
  if (draft.spec.installer.mode === 'helm') {
    return injectorPointsAt(draft, tag, to) ? undefined : fail('TagReverted', `tag "${tag}" does not point at revision ${to} at the start of a wave; release ${newIstiodRelease(draft.spec, to)} should render it`);
  }
  if (tagPointsAt(draft, tag, to)) return undefined;
  const timeoutMs = parseDuration(draft.spec.rollout.workloadTimeout);
  const since = draft.condition('TagSwitched')?.status === 'False' ? draft.sinceTransition('TagSwitched') : 0;
  const move = moveTag(draft, tag, to);
  if (since > timeoutMs) {
    return fail('TagSwitchTimeout', `tag "${tag}" does not point at revision ${to} ${formatDuration(since)} after the switch began (${move.ok ? 'the webhook written does not stay: another writer may revert it' : move.reason})`);
  }
  if (!move.ok) {
    if (!draft.observed.revisions.some((r) => r.revision === to)) return fail('RevisionLost', `istiod of revision ${to} disappeared before tag "${tag}" moved`);
    draft.setCondition('TagSwitched', 'False', 'WaitingForRevision', `not moving tag "${tag}" yet: ${move.reason}`);
    return working('WaitingForRevision', `not moving tag "${tag}" yet: ${move.reason}`);
  }
  draft.setCondition('TagSwitched', 'False', 'Switching', `moving tag "${tag}" to revision ${to}`);
  return working('SwitchingTag', `moving tag "${tag}" to revision ${to}`, [move.action], REQUEUE.soon);
}

export function switchingTag(draft: Draft): StepOutcome {
  if (draft.spec.installer.mode === 'helm') return switchingTagWithHelm(draft);
  const waiting = switchTag(draft, draft.spec.tag);
  if (waiting !== undefined) return waiting;
  draft.setCondition('TagSwitched', 'True', 'TagSwitched', `tag "${draft.spec.tag}" points at revision ${draft.toRevision}`);
  return next('UpgradingGateways', `tag "${draft.spec.tag}" now points at ${draft.toRevision}`);
}
