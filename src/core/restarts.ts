// Drives a set of workloads onto a revision by restarting them, once each: a workload already stamped for
// this upgrade and revision is never restarted again, and one already on the revision is left alone.
import type { RestartWorkload } from './actions.ts';
import type { Draft } from './draft.ts';
import { formatDuration } from './duration.ts';
import type { WorkloadState } from './observed.ts';
import { restartedAtOf, stampOf, workloadKey, workloadOnRevision } from './workloads.ts';

export interface RestartProgress {
  readonly actions: RestartWorkload[];
  readonly upgraded: number;
  readonly total: number;
  /** Workloads restarted but not yet on the revision. */
  readonly waitingOn: string[];
  /** The first workload that exceeded the timeout, with a description of where it is stuck. */
  readonly timedOut: string | undefined;
}

function describeStuck(w: WorkloadState, revision: string): string {
  const r = w.rollout;
  const revisions = [...new Set(w.pods.map((p) => p.injectedRevision ?? 'none'))].join(',') || 'no pods';
  return `${workloadKey(w)}: ${r.ready}/${r.desired} ready, ${r.updated} updated, pods on revision(s) ${revisions} (want ${revision})`;
}

export function driveRestarts(
  draft: Draft,
  workloads: readonly WorkloadState[],
  revision: string,
  timeoutMs: number,
): RestartProgress {
  const stamp = draft.stamp(revision);
  const actions: RestartWorkload[] = [];
  const waitingOn: string[] = [];
  let upgraded = 0;
  let timedOut: string | undefined;
  for (const w of workloads) {
    const stamped = stampOf(w) === stamp;
    if (workloadOnRevision(w, revision)) {
      upgraded += 1;
      continue;
    }
    if (!stamped) {
      actions.push({ type: 'restartWorkload', kind: w.kind, namespace: w.namespace, name: w.name, stamp, restartedAt: draft.now.toISOString() });
      continue;
    }
    waitingOn.push(workloadKey(w));
    const restartedAt = restartedAtOf(w);
    if (timedOut === undefined && restartedAt !== undefined && draft.nowMs - restartedAt > timeoutMs) {
      timedOut = `${describeStuck(w, revision)}; not done ${formatDuration(draft.nowMs - restartedAt)} after restart`;
    }
  }
  return { actions, upgraded, total: workloads.length, waitingOn, timedOut };
}
