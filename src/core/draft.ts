// The working copy of one planning pass: the status being built, the events to emit, and the facts every
// phase needs (resolved revisions, the injection view, the scope of every workload), computed once per pass.
import type { Condition, ConditionType, IstioUpgrade, IstioUpgradeSpec, IstioUpgradeStatus, Phase } from '../api/schema.ts';
import type { UpgradeEvent } from './actions.ts';
import { findCondition, setCondition, type ConditionStatus, type ConditionWriter } from './conditions.ts';
import { defaultTagPreparation, injectionView } from './injection-view.ts';
import { MeshView } from './mesh-view.ts';
import type { ObservedState } from './observed.ts';
import type { Reason } from './reasons.ts';
import { namespaceMap, type ScopeContext } from './scope.ts';
import { resolveTag } from './tags.ts';
import { revisionForVersion } from './version.ts';

export class Draft implements ConditionWriter {
  readonly upgrade: IstioUpgrade;
  readonly spec: IstioUpgradeSpec;
  readonly observed: ObservedState;
  readonly now: Date;
  readonly nowMs: number;
  readonly generation: number;
  /** Target revision: spec.revision or the version with dots replaced. */
  readonly toRevision: string;
  status: IstioUpgradeStatus;
  readonly events: UpgradeEvent[] = [];
  private meshView: MeshView | undefined;

  constructor(upgrade: IstioUpgrade, observed: ObservedState, now: Date) {
    this.upgrade = upgrade;
    this.spec = upgrade.spec;
    this.observed = observed;
    this.now = now;
    this.nowMs = now.getTime();
    this.generation = upgrade.metadata.generation;
    this.toRevision = upgrade.spec.revision ?? revisionForVersion(upgrade.spec.version);
    this.status = workingCopy(upgrade.status);
  }

  get phase(): Phase {
    return this.status.phase ?? 'Pending';
  }

  /** Resolved at precheck; before that, spec.fromRevision or the revision the tag points at now. */
  get fromRevision(): string | undefined {
    if (this.status.fromRevision !== undefined) return this.status.fromRevision;
    if (this.spec.fromRevision !== undefined) return this.spec.fromRevision;
    const resolved = resolveTag(this.observed, this.spec.tag);
    return resolved.kind === 'missing' ? undefined : resolved.revision;
  }

  /** Every tag this upgrade moves, spec.tag first. */
  get tags(): readonly string[] {
    return [this.spec.tag, ...this.spec.additionalTags];
  }

  get view(): MeshView {
    if (this.meshView !== undefined) return this.meshView;
    const preparation = defaultTagPreparation(this.observed, this.spec);
    const webhooks = injectionView(this.observed, preparation);
    const context: ScopeContext = {
      webhooks,
      namespaces: namespaceMap(this.observed.namespaces),
      tags: this.tags,
      fromRevision: this.fromRevision,
      excludedNamespaces: new Set(this.spec.rollout.excludeNamespaces),
      adoptPinnedNamespaces: this.spec.rollout.adoptPinnedNamespaces,
    };
    this.meshView = new MeshView(this.observed, preparation, webhooks, context);
    return this.meshView;
  }

  get conditions(): readonly Condition[] {
    return this.status.conditions ?? [];
  }

  condition(type: ConditionType): Condition | undefined {
    return findCondition(this.conditions, type);
  }

  setCondition(type: ConditionType, status: ConditionStatus, reason: Reason, message: string): void {
    this.status.conditions = setCondition(this.conditions, { type, status, reason, message }, this.generation, this.now);
  }

  event(type: UpgradeEvent['type'], reason: Reason, message: string): void {
    this.events.push({ type, reason, message });
  }

  stamp(revision: string): string {
    return `${this.upgrade.metadata.uid}/${revision}`;
  }

  /** Milliseconds since a condition last changed status; 0 when it never did. */
  sinceTransition(type: ConditionType): number {
    const since = this.condition(type)?.lastTransitionTime;
    return since === undefined ? 0 : Math.max(0, this.nowMs - Date.parse(since));
  }
}

/**
 * A deep copy of the status for the pass to change, except each wave's namespace list, which is shared: a wave's
 * list is replaced, never changed in place, and at scale copying thousands of names every pass was most of the
 * copy's cost.
 */
function workingCopy(status: IstioUpgradeStatus): IstioUpgradeStatus {
  const { waves, ...rest } = status;
  const copy: IstioUpgradeStatus = structuredClone(rest);
  // Every other field of a wave is a string.
  if (waves !== undefined) copy.waves = waves.map((wave) => ({ ...wave }));
  return copy;
}
