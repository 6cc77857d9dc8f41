// plan(upgrade, observed, now) -> { actions, status, requeueAfterMs, events }: the whole decision logic of the
// operator, pure. Each pass runs the current phase's step; steps that finish hand over to the next phase
// within the same pass until one has to wait (or act).
import { MAX_LISTED, TERMINAL_PHASES, type ConditionType, type IstioUpgrade, type IstioUpgradeStatus, type Phase } from '../api/schema.ts';
import type { Action, UpgradeEvent } from './actions.ts';
import { markIdle, markReady, markReconciling, markStalled } from './conditions.ts';
import { Draft } from './draft.ts';
import type { ObservedState } from './observed.ts';
import { STEPS } from './phases/index.ts';
import { isReason, type Reason } from './reasons.ts';
import { waveTarget } from './soak.ts';
import type { Hold, StepOutcome } from './step.ts';
import { TAG_HELD_IN, holdMovedTags } from './tag-guard.ts';
import { countWaveNamespaces } from './count-tally.ts';
import { resolveWaves } from './waves.ts';
import { workloadOnRevision } from './workloads.ts';

export interface PlanResult {
  readonly actions: readonly Action[];
  readonly status: IstioUpgradeStatus;
  /** Look again after this long even if nothing changes; undefined: only when something changes. */
  readonly requeueAfterMs: number | undefined;
  readonly events: readonly UpgradeEvent[];
}

const MAX_TRANSITIONS_PER_PASS = 32;

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
    return { actions: grantRevocations(observed), status: upgrade.status, requeueAfterMs: undefined, events: [] };
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
    outcome = (TAG_HELD_IN.includes(draft.phase) ? holdMovedTags(draft) : undefined) ?? STEPS[draft.phase](draft);
    if (outcome.kind === 'next') enter(draft, outcome.phase, outcome.message, outcome.event);
    else if (outcome.kind === 'fail') recordFailure(draft, outcome.reason, outcome.message);
    else break;
  }

  let actions: readonly Action[] = [];
  let hold: Hold | undefined;
  let requeueAfterMs: number | undefined;
  if (outcome.kind === 'wait') {
    actions = outcome.actions;
    hold = outcome.hold;
    requeueAfterMs = outcome.requeueAfterMs;
    if (draft.spec.paused && actions.length > 0) {
      // Halt before the next action; the status still reflects what was observed.
      actions = [];
      hold = { kind: 'paused', reason: 'Paused', message: `paused in ${draft.phase} before the next action; set spec.paused to false to resume` };
    }
    // Paused: only a change of the spec (an informer event) resumes it.
    if (hold.kind === 'paused') requeueAfterMs = undefined;
  }
  summarize(draft, hold);
  countWorkloads(draft);
  // Even when paused: holding cluster-admin-like rights for a Job that is over is never wanted.
  return { actions: [...grantRevocations(observed), ...actions], status: draft.status, requeueAfterMs, events: draft.events };
}

/**
 * The installer's binding goes once the Job of this upgrade it was granted for has finished, whatever the
 * phase: a terminal upgrade is still asked (its Job may finish after it ended).
 */
export function grantRevocations(observed: Pick<ObservedState, 'installerAccess' | 'jobs'>): Action[] {
  const grantedFor = observed.installerAccess?.grantedFor;
  if (grantedFor === undefined) return [];
  const job = observed.jobs.find((j) => j.name === grantedFor);
  return job !== undefined && job.outcome !== 'Running' ? [{ type: 'revokeInstallerAccess', jobName: grantedFor }] : [];
}

function syncWaves(draft: Draft): void {
  const current = draft.status.waves ?? [];
  const started = draft.spec.rollout.waves.map((wave) => current.find((w) => w.name === wave.name && w.state !== 'Pending'));
  // Every wave has started: their namespaces are fixed, nothing to resolve (a walk of every namespace).
  if (started.every((w) => w !== undefined)) {
    draft.status.waves = started;
    return;
  }
  const resolved = resolveWaves(draft.spec, draft.view, draft.observed.namespaces, current);
  draft.status.waves = draft.spec.rollout.waves.map((wave, index) => {
    const existing = current.find((w) => w.name === wave.name);
    if (existing !== undefined && existing.state !== 'Pending') return existing;
    return { name: wave.name, state: 'Pending', namespaces: resolved[index] ?? [] };
  });
}

function enter(draft: Draft, phase: Phase, message: string, event: Reason | undefined): void {
  const from = draft.phase;
  draft.status.phase = phase;
  if (from !== phase || event !== undefined) {
    const warning = phase === 'RolledBack' || phase === 'Failed';
    draft.event(warning ? 'Warning' : 'Normal', event ?? phase, message);
  }
  if (phase === 'RolledBack') {
    for (const wave of draft.status.waves ?? []) if (wave.state !== 'Pending') wave.state = 'RolledBack';
  }
  if (isTerminal(phase)) {
    draft.status.completedAt = draft.now.toISOString();
    delete draft.status.currentWave;
  }
}

function recordFailure(draft: Draft, reason: Reason, message: string): void {
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
  const rollback = draft.spec.rollback.automatic && !NO_ROLLBACK_FROM.includes(phase);
  // One Event per failure: the transition carries the failure's reason.
  enter(draft, rollback ? 'RollingBack' : 'Failed', rollback ? `${reason}: ${message}; rolling back to ${draft.fromRevision ?? 'the old revision'}` : `${reason}: ${message}`, reason);
}

function summarize(draft: Draft, hold: Hold | undefined): void {
  const phase = draft.phase;
  const failure = draft.status.failure;
  if (phase === 'Succeeded') {
    markReady(draft, 'Succeeded', `mesh upgraded from ${draft.fromRevision ?? '?'} to ${draft.toRevision} (Istio ${draft.spec.version})`);
    return;
  }
  if (phase === 'RolledBack' || phase === 'Failed') {
    const reason: Reason = failure === undefined ? phase : isReasonOf(failure.reason, phase);
    const message =
      phase === 'RolledBack'
        ? `rolled back to revision ${draft.fromRevision ?? '?'} after ${failure?.reason ?? 'a failure'} in ${failure?.phase ?? '?'}: ${failure?.message ?? ''}`
        : `failed in ${failure?.phase ?? '?'}: ${failure?.message ?? ''}; fix the cause and create a new IstioUpgrade`;
    markStalled(draft, reason, message);
    draft.setCondition('Reconciling', 'False', phase, message);
    return;
  }
  const reason = hold?.reason ?? phase;
  const message = hold?.message ?? phase;
  switch (hold?.kind) {
    case 'blocked':
      markStalled(draft, reason, message);
      return;
    case 'queued':
    case 'paused':
      markIdle(draft, reason, message);
      return;
    case 'approval':
    case 'working':
    case undefined:
      markReconciling(draft, reason, message);
      return;
  }
}

/** A failure's reason as recorded (the status is read back as text; a hand-edited one falls back). */
function isReasonOf(text: string, fallback: Reason): Reason {
  return isReason(text) ? text : fallback;
}

/**
 * status.workloads: the moved workloads of the waves' namespaces and the gateway Deployments, and what is left
 * alone in those namespaces. The waves' namespaces are counted by count-tally.ts, which recounts only those that
 * changed: a pass costs the change, not a walk of every workload.
 */
function countWorkloads(draft: Draft): void {
  const target = draft.toRevision;
  const counted = countWaveNamespaces(draft);
  let total = counted.total;
  let upgraded = counted.upgraded;
  // A gateway counts as its Deployment, whatever its namespace and scope (it is restarted in place).
  const gatewayNames = Map.groupBy(draft.spec.gateways, (g) => g.namespace);
  for (const [ns, gateways] of gatewayNames) {
    for (const { workload } of draft.view.namespace(ns).workloads) {
      if (workload.kind !== 'Deployment' || !gateways.some((g) => g.name === workload.name)) continue;
      total += 1;
      if (workloadOnRevision(workload, target)) upgraded += 1;
    }
  }
  const skipped = counted.skipped;
  draft.status.workloads = { total, upgraded, pending: total - upgraded, skipped: skipped.length };
  draft.status.upgraded = `${upgraded}/${total}`;
  if (skipped.length > 0) draft.status.skippedWorkloads = skipped.slice(0, MAX_LISTED);
  else delete draft.status.skippedWorkloads;
}
