// After a tag has moved, it must stay on the new revision: while it points elsewhere, a restart would inject the
// old proxy again. Phases after the switch first put moved tags back (holding every restart in that pass), and a
// tag that keeps being reverted (another writer, e.g. Argo CD without ignoreDifferences) fails the upgrade.
import type { Phase } from '../api/schema.ts';
import type { Draft } from './draft.ts';
import { REQUEUE, fail, working, type StepOutcome } from './step.ts';
import { newIstiodRelease } from './helm-jobs.ts';
import { injectorPointsAt, moveTag, tagPointsAt } from './tag-moves.ts';
import { waveTag } from './waves.ts';

/** The phases in which the moved tags must point at the new revision. */
export const TAG_HELD_IN: readonly Phase[] = ['UpgradingGateways', 'RollingOut', 'Soaking'];

/** Reverts tolerated (and undone) per upgrade; one more fails it. */
export const MAX_TAG_REVERTS = 3;

/** spec.tag, and each additional tag whose first wave has started. */
export function movedTags(draft: Draft): string[] {
  const started = new Set((draft.status.waves ?? []).filter((w) => w.state !== 'Pending').map((w) => w.name));
  const tags = draft.spec.rollout.waves.filter((w) => started.has(w.name)).map((w) => waveTag(draft.spec, w));
  return [...new Set([draft.spec.tag, ...tags])];
}

/** Undefined when every moved tag points at the new revision; else the pass that puts one back (or fails). */
export function holdMovedTags(draft: Draft): StepOutcome | undefined {
  const to = draft.toRevision;
  const helm = draft.spec.installer.mode === 'helm';
  // Helm mode: the new release renders the tag, and the default validator belongs to the base chart; only the
  // injector is checked, and a revert is not written over (the operator's own objects would fight Helm's).
  const reverted = movedTags(draft).find((tag) => !(helm ? injectorPointsAt(draft, tag, to) : tagPointsAt(draft, tag, to)));
  if (reverted === undefined) return undefined;
  if (helm) {
    return fail('TagReverted', `tag "${reverted}" no longer points at revision ${to}: someone changed the webhook istio-revision-tag-${reverted} that release ${newIstiodRelease(draft.spec, to)} renders (a helm upgrade of another release, or another writer)`);
  }
  const reverts = (draft.status.tagReverts ?? 0) + 1;
  const what = `tag "${reverted}" no longer points at revision ${to}`;
  if (reverts > MAX_TAG_REVERTS) {
    return fail('TagReverted', `${what}: it was changed back ${reverts} times after the switch; another writer keeps reverting the tag webhook (e.g. Argo CD without ignoreDifferences on istio-revision-tag-${reverted})`);
  }
  const move = moveTag(draft, reverted, to);
  if (!move.ok) {
    if (!draft.observed.revisions.some((r) => r.revision === to)) return fail('RevisionLost', `istiod of revision ${to} disappeared after tag "${reverted}" moved`);
    return fail('TagReverted', `${what} and cannot be put back: ${move.reason}`);
  }
  draft.status.tagReverts = reverts;
  draft.event('Warning', 'TagReverted', `${what} (changed by someone else, ${reverts} of ${MAX_TAG_REVERTS} tolerated): writing it again; restarts wait`);
  return working('Switching', `${what}: writing it again before any restart`, [move.action], REQUEUE.soon);
}
