// Pending: only one non-terminal IstioUpgrade acts on a tag; the one that started first (or was created
// first) goes, the others queue here.
import { TERMINAL_PHASES } from '../../api/schema.ts';
import type { Draft } from '../draft.ts';
import type { UpgradeSummary } from '../observed.ts';
import { next, queued, type StepOutcome } from '../step.ts';

function isActive(phase: UpgradeSummary['phase']): boolean {
  return phase !== undefined && phase !== 'Pending' && !TERMINAL_PHASES.includes(phase);
}

function isOlder(a: UpgradeSummary, b: { creationTimestamp: string; name: string }): boolean {
  const at = Date.parse(a.creationTimestamp);
  const bt = Date.parse(b.creationTimestamp);
  return at < bt || (at === bt && a.name < b.name);
}

export function pending(draft: Draft): StepOutcome {
  const self = draft.upgrade.metadata;
  const mine = new Set(draft.tags);
  const blocker = draft.observed.otherUpgrades.find(
    (other) =>
      other.uid !== self.uid &&
      other.tags.some((t) => mine.has(t)) &&
      (isActive(other.phase) || ((other.phase === undefined || other.phase === 'Pending') && isOlder(other, self))),
  );
  if (blocker !== undefined) {
    const shared = blocker.tags.filter((t) => mine.has(t)).join('", "');
    return queued('WaitingForOtherUpgrade', `IstioUpgrade ${blocker.name} (phase ${blocker.phase ?? 'Pending'}) is acting on tag "${shared}"; this one starts when it ends`);
  }
  return next('Prechecking', `starting upgrade of tag "${draft.spec.tag}" to Istio ${draft.spec.version} (revision ${draft.toRevision})`);
}
