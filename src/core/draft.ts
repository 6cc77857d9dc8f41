// The working copy of one planning pass: the status being built, the events to emit, and the facts every
// phase needs (resolved revisions, parsed durations). Phases mutate the draft; plan() returns a copy of it.
import type { Condition, ConditionType, IstioUpgrade, IstioUpgradeSpec, IstioUpgradeStatus, Phase } from '../api/schema.ts';
import type { UpgradeEvent } from './actions.ts';
import { findCondition, setCondition, type ConditionStatus } from './conditions.ts';
import type { ObservedState } from './observed.ts';
import { revisionForVersion } from './version.ts';

export class Draft {
  readonly upgrade: IstioUpgrade;
  readonly spec: IstioUpgradeSpec;
  readonly observed: ObservedState;
  readonly now: Date;
  readonly nowMs: number;
  readonly generation: number;
  status: IstioUpgradeStatus;
  readonly events: UpgradeEvent[] = [];

  constructor(upgrade: IstioUpgrade, observed: ObservedState, now: Date) {
    this.upgrade = upgrade;
    this.spec = upgrade.spec;
    this.observed = observed;
    this.now = now;
    this.nowMs = now.getTime();
    this.generation = upgrade.metadata.generation;
    this.status = structuredClone(upgrade.status);
  }

  get phase(): Phase {
    return this.status.phase ?? 'Pending';
  }

  /** Target revision: spec.revision or the version with dots replaced. */
  get toRevision(): string {
    return this.spec.revision ?? revisionForVersion(this.spec.version);
  }

  /** Resolved at precheck; before that, spec.fromRevision (possibly undefined). */
  get fromRevision(): string | undefined {
    return this.status.fromRevision ?? this.spec.fromRevision;
  }

  get conditions(): readonly Condition[] {
    return this.status.conditions ?? [];
  }

  condition(type: ConditionType): Condition | undefined {
    return findCondition(this.conditions, type);
  }

  setCondition(type: ConditionType, status: ConditionStatus, reason: string, message: string): void {
    this.status.conditions = setCondition(this.conditions, { type, status, reason, message }, this.generation, this.now);
  }

  event(type: UpgradeEvent['type'], reason: string, message: string): void {
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
