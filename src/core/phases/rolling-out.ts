// RollingOut: restart the workloads of the current wave, at most maxConcurrentNamespaces namespaces at a
// time; a wave that needs approval waits for the annotation; when a wave is done its soak starts.
import { APPROVE_ANNOTATION } from '../../api/constants.ts';
import type { Draft } from '../draft.ts';
import { parseDuration } from '../duration.ts';
import type { WorkloadState } from '../observed.ts';
import { driveRestarts } from '../restarts.ts';
import { startSoak, waveTarget } from '../soak.ts';
import { fail, next, working, type StepOutcome } from '../step.ts';
import { classifyWorkload, stampOf, workloadOnRevision } from '../workloads.ts';

/** Workloads a namespace list holds that the upgrade restarts. */
export function restartableIn(draft: Draft, namespaces: readonly string[]): WorkloadState[] {
  const wanted = new Set(namespaces);
  return draft.observed.workloads.filter((w) => wanted.has(w.namespace) && classifyWorkload(w, draft.spec.tag).restart);
}

export function rollingOut(draft: Draft): StepOutcome {
  const { spec } = draft;
  const waves = draft.status.waves ?? [];
  const current = waves.find((w) => w.state !== 'Succeeded');
  if (current === undefined) {
    delete draft.status.currentWave;
    draft.setCondition('DataPlaneUpgraded', 'True', 'DataPlaneUpgraded', `all ${waves.length} wave(s) run revision ${draft.toRevision}`);
    return next('Uninstalling', 'every wave upgraded and soaked');
  }
  const waveSpec = spec.rollout.waves.find((w) => w.name === current.name);
  if (waveSpec === undefined) return fail('InvalidWave', `wave "${current.name}" is in the status but not in the spec`);
  draft.status.currentWave = current.name;

  if (current.state === 'Pending') {
    if (waveSpec.requireApproval && draft.upgrade.metadata.annotations[APPROVE_ANNOTATION] !== current.name) {
      const message = `wave "${current.name}" waits for approval: kubectl annotate istioupgrade ${draft.upgrade.metadata.name} ${APPROVE_ANNOTATION}=${current.name} --overwrite`;
      draft.setCondition('DataPlaneUpgraded', 'False', 'AwaitingApproval', message);
      return { kind: 'wait', actions: [], requeueAfterMs: 60_000, hold: { kind: 'approval', reason: 'AwaitingApproval', message } };
    }
    current.state = 'InProgress';
    current.startedAt = draft.now.toISOString();
    draft.event('Normal', 'WaveStarted', `wave "${current.name}" started: ${current.namespaces.join(', ') || 'no namespaces'}`);
  }

  const target = draft.toRevision;
  const workloads = restartableIn(draft, current.namespaces);
  if (workloads.length === 0) {
    current.state = 'Succeeded';
    current.completedAt = draft.now.toISOString();
    return next('RollingOut', `wave "${current.name}" has no workloads to restart`);
  }

  // Namespaces under way keep their slots; free slots go to the next namespaces in name order.
  const stamp = draft.stamp(target);
  const byNamespace = current.namespaces.map((ns) => ({ ns, workloads: workloads.filter((w) => w.namespace === ns) }));
  const done = (entry: { workloads: WorkloadState[] }) => entry.workloads.every((w) => workloadOnRevision(w, target));
  const started = (entry: { workloads: WorkloadState[] }) => entry.workloads.some((w) => stampOf(w) === stamp);
  const active = byNamespace.filter((e) => started(e) && !done(e));
  const free = Math.max(0, waveSpec.maxConcurrentNamespaces - active.length);
  const admitted = [...active, ...byNamespace.filter((e) => !started(e) && !done(e)).slice(0, free)];

  const progress = driveRestarts(draft, admitted.flatMap((e) => e.workloads), target, parseDuration(spec.rollout.workloadTimeout));
  if (progress.timedOut !== undefined) {
    return fail('WorkloadTimeout', `wave "${current.name}": a workload did not come up on revision ${target} within ${spec.rollout.workloadTimeout}: ${progress.timedOut}`);
  }
  if (byNamespace.every(done)) {
    current.state = 'Soaking';
    startSoak(draft, waveTarget(current.name), current.namespaces);
    return next('Soaking', `wave "${current.name}" upgraded; soaking for ${spec.soak.duration}`);
  }
  const upgraded = workloads.filter((w) => workloadOnRevision(w, target)).length;
  const message = `wave "${current.name}": ${upgraded}/${workloads.length} workloads on ${target}; namespaces in progress: ${admitted.map((e) => e.ns).join(', ')}`;
  draft.setCondition('DataPlaneUpgraded', 'False', 'RollingOut', message);
  return working('RollingOut', message, progress.actions);
}
