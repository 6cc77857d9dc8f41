// Pending: only one non-terminal IstioUpgrade acts on a tag; the one that started first (or was created
// first) goes, the others queue here.
import { TERMINAL_PHASES, type Phase } from '../../api/schema.ts';
import type { Draft } from '../draft.ts';
import type { UpgradeSummary } from '../observed.ts';
import { LONG_REQUEUE_MS, next, type StepOutcome } from '../step.ts';

function isActive(phase: string | undefined): boolean {
  return phase !== undefined && phase !== 'Pending' && !TERMINAL_PHASES.includes(phase as Phase);
}

function isOlder(a: UpgradeSummary, b: { creationTimestamp: string; name: string }): boolean {
  const at = Date.parse(a.creationTimestamp);
  const bt = Date.parse(b.creationTimestamp);
  return at < bt || (at === bt && a.name < b.name);
}

export function pending(draft: Draft): StepOutcome {
  const self = draft.upgrade.metadata;
  const blocker = draft.observed.otherUpgrades.find(
    (other) =>
      other.tag === draft.spec.tag &&
      other.uid !== self.uid &&
      (isActive(other.phase) || ((other.phase === undefined || other.phase === 'Pending') && isOlder(other, self))),
  );
  if (blocker !== undefined) {
    return {
      kind: 'wait',
      actions: [],
      requeueAfterMs: LONG_REQUEUE_MS,
      hold: {
        kind: 'queued',
        reason: 'WaitingForOtherUpgrade',
        message: `IstioUpgrade ${blocker.name} (phase ${blocker.phase ?? 'Pending'}) is acting on tag "${draft.spec.tag}"; this one starts when it ends`,
      },
    };
  }
  return next('Prechecking', `starting upgrade of tag "${draft.spec.tag}" to Istio ${draft.spec.version} (revision ${draft.toRevision})`);
}
