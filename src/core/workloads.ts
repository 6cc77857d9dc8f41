// When a workload counts as moved: rolled out, and every live pod injected by the revision.
import { RESTARTED_AT_ANNOTATION, RESTARTED_FOR_ANNOTATION } from '../api/constants.ts';
import type { RolloutState, WorkloadState } from './observed.ts';

export function workloadKey(w: { kind: string; namespace: string; name: string }): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

export function stampOf(w: WorkloadState): string | undefined {
  return w.templateAnnotations[RESTARTED_FOR_ANNOTATION];
}

/** Parsed restartedAt annotations, by the annotations object (unchanged workloads keep theirs). */
const restartedAt = new WeakMap<Readonly<Record<string, string>>, number | undefined>();

/** When the workload was restarted (kubectl's restartedAt annotation), in epoch ms. */
export function restartedAtOf(w: WorkloadState): number | undefined {
  const annotations = w.templateAnnotations;
  if (restartedAt.has(annotations)) return restartedAt.get(annotations);
  const text = annotations[RESTARTED_AT_ANNOTATION];
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  const answer = Number.isNaN(ms) ? undefined : ms;
  restartedAt.set(annotations, answer);
  return answer;
}

export function rolloutComplete(r: RolloutState): boolean {
  return r.observedGeneration >= r.generation && r.updated >= r.desired && r.ready >= r.desired && r.total <= r.desired;
}

/**
 * Rolled out, and every live pod runs a proxy injected by `revision`. The pods seen must account for the
 * desired replicas: a rollout that reports done while its pods are not (yet) observed proves nothing.
 */
export function workloadOnRevision(w: WorkloadState, revision: string): boolean {
  if (!rolloutComplete(w.rollout)) return false;
  const live = w.pods.filter((p) => !p.terminating && p.phase !== 'Succeeded' && p.phase !== 'Failed');
  return live.length >= w.rollout.desired && live.every((p) => p.injectedRevision === revision);
}
