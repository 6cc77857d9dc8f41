// Drives a set of workloads onto a revision by restarting them, once each: a workload already stamped for
// this upgrade and revision is never restarted again, and one already on the revision is left alone.
// Workloads whose pods are only replaced when deleted (updateStrategy OnDelete) get their pods evicted one at a
// time through the Eviction API (which honours PodDisruptionBudgets), each after the previous one is back.
import type { EvictPod, RestartWorkload } from './actions.ts';
import { byCodeUnits } from './by-code-units.ts';
import type { Draft } from './draft.ts';
import { formatDuration } from './duration.ts';
import type { WorkloadState } from './observed.ts';
import { restartedAtOf, stampOf, workloadKey, workloadOnRevision } from './workloads.ts';

/** How long an evicted pod may stay (not terminating) before the eviction counts as refused and is retried. */
const EVICTION_RETRY_MS = 10_000;

export interface RestartProgress {
  readonly actions: (RestartWorkload | EvictPod)[];
  readonly upgraded: number;
  readonly total: number;
  /** Pods being evicted (OnDelete workloads), for the status message. */
  readonly evicting: string[];
  /** The first workload that exceeded the timeout, with a description of where it is stuck. */
  readonly timedOut: string | undefined;
}

export function describeStuck(w: WorkloadState, revision: string): string {
  const r = w.rollout;
  const revisions = [...new Set(w.pods.map((p) => p.injectedRevision ?? 'none'))].join(',') || 'no pods';
  return `${workloadKey(w)}: ${r.ready}/${r.desired} ready, ${r.updated} updated, pods on revision(s) ${revisions} (want ${revision})`;
}

/**
 * The next pod of an OnDelete workload to evict: only when the last one evicted is gone (by UID: a StatefulSet
 * recreates it under the same name), and every pod is back and Ready. The last eviction is remembered in the
 * status, because the caches may not show it yet on the next pass.
 */
function nextEviction(draft: Draft, w: WorkloadState, revision: string): EvictPod | 'wait' | undefined {
  const key = workloadKey(w);
  const evictions = draft.status.evictions ?? [];
  const pending = evictions.find((e) => e.workload === key);
  const live = w.pods.filter((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed');
  if (pending !== undefined) {
    const evicted = w.pods.find((p) => p.uid === pending.uid);
    // Still there and not terminating long after: the eviction was refused (a PodDisruptionBudget); ask again.
    const refused = evicted !== undefined && !evicted.terminating && draft.nowMs - Date.parse(pending.at) > EVICTION_RETRY_MS;
    if (evicted !== undefined && !refused) return 'wait';
    draft.status.evictions = evictions.filter((e) => e !== pending);
    if (draft.status.evictions.length === 0) delete draft.status.evictions;
  }
  if (live.some((p) => p.terminating) || live.length < w.rollout.desired || live.some((p) => !p.ready)) return 'wait';
  const old = live.filter((p) => p.injectedRevision !== revision).sort((a, b) => byCodeUnits(a.name, b.name))[0];
  if (old === undefined) return undefined;
  draft.status.evictions = [...(draft.status.evictions ?? []), { workload: key, pod: old.name, uid: old.uid, at: draft.now.toISOString() }];
  return { type: 'evictPod', namespace: old.namespace, name: old.name };
}

export function driveRestarts(draft: Draft, workloads: readonly WorkloadState[], revision: string, timeoutMs: number): RestartProgress {
  const stamp = draft.stamp(revision);
  const actions: (RestartWorkload | EvictPod)[] = [];
  const evicting: string[] = [];
  let upgraded = 0;
  let timedOut: string | undefined;
  for (const w of workloads) {
    if (workloadOnRevision(w, revision)) {
      upgraded += 1;
      continue;
    }
    if (stampOf(w) !== stamp) {
      actions.push({ type: 'restartWorkload', kind: w.kind, namespace: w.namespace, name: w.name, stamp, restartedAt: draft.now.toISOString() });
      continue;
    }
    if (w.update === 'onDelete') {
      const eviction = nextEviction(draft, w, revision);
      if (eviction !== undefined && eviction !== 'wait') {
        actions.push(eviction);
        evicting.push(`${eviction.namespace}/${eviction.name}`);
      }
    }
    // OnDelete workloads replace one pod at a time, so they get the timeout once per pod.
    const budget = w.update === 'onDelete' ? timeoutMs * Math.max(1, w.rollout.desired) : timeoutMs;
    const restartedAt = restartedAtOf(w);
    if (timedOut === undefined && restartedAt !== undefined && draft.nowMs - restartedAt > budget) {
      timedOut = `${describeStuck(w, revision)}; not done ${formatDuration(draft.nowMs - restartedAt)} after restart`;
    }
  }
  return { actions, upgraded, total: workloads.length, evicting, timedOut };
}
