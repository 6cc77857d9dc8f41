// plan(upgrade, observed, now) -> { actions, status, requeueAfterMs, events }: the whole decision logic of the
// operator, pure. Each pass runs the current phase's step; steps that finish hand over to the next phase
// within the same pass until one has to wait (or act).
import { TERMINAL_PHASES, type ConditionType, type IstioUpgrade, type IstioUpgradeStatus, type Phase } from '../api/schema.ts';
import type { Action, UpgradeEvent } from './actions.ts';
import { Draft } from './draft.ts';
import type { ObservedState } from './observed.ts';
import { STEPS } from './phases/index.ts';
import { waveTarget } from './soak.ts';
import type { Hold, StepOutcome } from './step.ts';
import { resolveWaves } from './waves.ts';
import { classifyWorkload, skippedPodReason, workloadKey, workloadOnRevision } from './workloads.ts';

export interface PlanResult {
  readonly actions: readonly Action[];
  readonly status: IstioUpgradeStatus;
  /** Look again after this long even if nothing changes; undefined: only when something changes. */
  readonly requeueAfterMs: number | undefined;
  readonly events: readonly UpgradeEvent[];
}

const MAX_TRANSITIONS_PER_PASS = 32;
const MAX_SKIPPED_LISTED = 50;

/** The step condition a failure in each phase is reported on. */
const STEP_CONDITION: Partial<Record<Phase, ConditionType>> = {
  Prechecking: 'PrecheckPassed',
  Installing: 'RevisionInstalled',
  SwitchingTag: 'TagSwitched',
  UpgradingGateways: 'GatewaysUpgraded',
  RollingOut: 'DataPlaneUpgraded',
  Soaking: 'SoakPassed',
  Uninstalling: 'OldRevisionRemoved',
};

/** Failing here changes nothing yet (or nothing a rollback could undo): end Failed. */
const NO_ROLLBACK_FROM: readonly Phase[] = ['Pending', 'Prechecking', 'Uninstalling', 'RollingBack'];

export function isTerminal(phase: Phase | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.includes(phase);
}

export function plan(upgrade: IstioUpgrade, observed: ObservedState, now: Date): PlanResult {
  if (isTerminal(upgrade.status.phase)) {
    return { actions: [], status: upgrade.status, requeueAfterMs: undefined, events: [] };
  }
  const draft = new Draft(upgrade, observed, now);
  const status = draft.status;
  status.observedGeneration = draft.generation;
  status.phase ??= 'Pending';
  status.startedAt ??= now.toISOString();
  status.toRevision ??= draft.toRevision;
  syncWaves(draft);

  let outcome: StepOutcome = { kind: 'done' };
  for (let i = 0; i < MAX_TRANSITIONS_PER_PASS; i++) {
    outcome = STEPS[draft.phase](draft);
    if (outcome.kind === 'next') enter(draft, outcome.phase, outcome.message);
    else if (outcome.kind === 'fail') recordFailure(draft, outcome.reason, outcome.message);
    else break;
  }

  let actions: readonly Action[] = [];
  let hold: Hold | 'paused' | undefined;
  let requeueAfterMs: number | undefined;
  if (outcome.kind === 'wait') {
    actions = outcome.actions;
    hold = outcome.hold;
    requeueAfterMs = outcome.requeueAfterMs;
    if (draft.spec.paused && actions.length > 0) {
      // Halt before the next action; the status still reflects what was observed.
      actions = [];
      hold = 'paused';
      requeueAfterMs = undefined;
    }
  }
  summarize(draft, hold);
  countWorkloads(draft);
  return { actions, status: draft.status, requeueAfterMs, events: draft.events };
}

function syncWaves(draft: Draft): void {
  const current = draft.status.waves ?? [];
  const resolved = resolveWaves(draft.spec, draft.observed.namespaces, current);
  draft.status.waves = draft.spec.rollout.waves.map((wave, index) => {
    const existing = current.find((w) => w.name === wave.name);
    if (existing !== undefined && existing.state !== 'Pending') return existing;
    return { name: wave.name, state: 'Pending', namespaces: resolved[index] ?? [] };
  });
}

function enter(draft: Draft, phase: Phase, message: string): void {
  const from = draft.phase;
  draft.status.phase = phase;
  if (from !== phase) {
    const warning = phase === 'RolledBack' || phase === 'Failed';
    draft.event(warning ? 'Warning' : 'Normal', phase, message);
  }
  if (phase === 'RolledBack') {
    for (const wave of draft.status.waves ?? []) if (wave.state !== 'Pending') wave.state = 'RolledBack';
  }
  if (isTerminal(phase)) {
    draft.status.completedAt = draft.now.toISOString();
    delete draft.status.currentWave;
  }
}

function recordFailure(draft: Draft, reason: string, message: string): void {
  const phase = draft.phase;
  const previous = draft.status.failure;
  draft.status.failure =
    phase === 'RollingBack' && previous !== undefined
      ? { phase, reason: 'RollbackFailed', message: `${message} (rolling back after ${previous.reason}: ${previous.message})` }
      : { phase, reason, message };
  const condition = STEP_CONDITION[phase];
  if (condition !== undefined) draft.setCondition(condition, 'False', reason, message);
  const soakTarget = draft.status.soak?.target;
  for (const wave of draft.status.waves ?? []) {
    if (wave.state === 'InProgress' || (wave.state === 'Soaking' && soakTarget === waveTarget(wave.name))) wave.state = 'Failed';
  }
  draft.event('Warning', reason, message);
  const rollback = draft.spec.rollback.automatic && !NO_ROLLBACK_FROM.includes(phase);
  enter(draft, rollback ? 'RollingBack' : 'Failed', rollback ? `rolling back to ${draft.fromRevision ?? 'the old revision'}: ${message}` : message);
}

function summarize(draft: Draft, hold: Hold | 'paused' | undefined): void {
  const phase = draft.phase;
  const failure = draft.status.failure;
  if (phase === 'Succeeded') {
    const message = `mesh upgraded from ${draft.fromRevision ?? '?'} to ${draft.toRevision} (Istio ${draft.spec.version})`;
    draft.setCondition('Ready', 'True', 'Succeeded', message);
    draft.setCondition('Reconciling', 'False', 'Succeeded', message);
    draft.setCondition('Stalled', 'False', 'Succeeded', message);
    return;
  }
  if (phase === 'RolledBack' || phase === 'Failed') {
    const reason = failure?.reason ?? phase;
    const message =
      phase === 'RolledBack'
        ? `rolled back to revision ${draft.fromRevision ?? '?'} after ${failure?.reason ?? 'a failure'} in ${failure?.phase ?? '?'}: ${failure?.message ?? ''}`
        : `failed in ${failure?.phase ?? '?'}: ${failure?.message ?? ''}; fix the cause and create a new IstioUpgrade`;
    draft.setCondition('Ready', 'False', reason, message);
    draft.setCondition('Reconciling', 'False', phase, message);
    draft.setCondition('Stalled', 'True', reason, message);
    return;
  }
  if (hold === 'paused') {
    const message = `paused in ${phase} before the next action; set spec.paused to false to resume`;
    draft.setCondition('Ready', 'False', 'Paused', message);
    draft.setCondition('Reconciling', 'False', 'Paused', message);
    draft.setCondition('Stalled', 'False', 'Paused', message);
    return;
  }
  const reason = hold?.reason ?? phase;
  const message = hold?.message ?? phase;
  draft.setCondition('Ready', 'False', reason, message);
  switch (hold?.kind) {
    case 'blocked':
      draft.setCondition('Reconciling', 'False', reason, message);
      draft.setCondition('Stalled', 'True', reason, message);
      return;
    case 'queued':
      draft.setCondition('Reconciling', 'False', reason, message);
      draft.setCondition('Stalled', 'False', reason, message);
      return;
    case 'approval':
    case 'working':
    case undefined:
      draft.setCondition('Reconciling', 'True', reason, message);
      draft.setCondition('Stalled', 'False', 'Progressing', message);
      return;
  }
}

function countWorkloads(draft: Draft): void {
  const namespaces = new Set((draft.status.waves ?? []).flatMap((w) => w.namespaces));
  const inScope = draft.observed.workloads.filter((w) => namespaces.has(w.namespace));
  const restartable = inScope.filter((w) => classifyWorkload(w, draft.spec.tag).restart);
  const upgraded = restartable.filter((w) => workloadOnRevision(w, draft.toRevision)).length;
  const skipped = [
    ...inScope.flatMap((w) => {
      const verdict = classifyWorkload(w, draft.spec.tag);
      return verdict.restart ? [] : [`${workloadKey(w)}: ${verdict.why}`];
    }),
    ...draft.observed.otherPods.filter((p) => namespaces.has(p.namespace)).map((p) => `Pod/${p.namespace}/${p.name}: ${skippedPodReason(p)}`),
  ].sort();
  draft.status.workloads = { total: restartable.length, upgraded, pending: restartable.length - upgraded, skipped: skipped.length };
  draft.status.upgraded = `${upgraded}/${restartable.length}`;
  if (skipped.length > 0) draft.status.skippedWorkloads = skipped.slice(0, MAX_SKIPPED_LISTED);
  else delete draft.status.skippedWorkloads;
}
