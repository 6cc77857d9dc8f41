// What observe derives from cached objects, remembered per object across passes. The informers keep an
// unchanged object as the same object, so a pod's state, its owning workload and a workload joined with its
// pods are computed once per change instead of once per pass; and an unchanged workload stays the same
// WorkloadState object, which lets the planner reuse its classification (core/scope-memo.ts).
import type { PodState, WorkloadState } from '../core/observed.ts';
import { sameItems } from '../core/same-items.ts';
import { toPodState, workloadOwnerKey, type JobFacts, type PodFacts, type ReplicaSetFacts } from './to-observed.ts';
import { workloadKey, type WorkloadFacts } from './workloads/index.ts';

const owners = new WeakMap<PodFacts, { readonly replicaSet: ReplicaSetFacts | undefined; readonly key: string | undefined }>();
const joined = new WeakMap<WorkloadFacts, WorkloadState>();

/** A pod's state: the cached object itself, but for a Job's pod, whose state depends on whether its Job ended. */
export function podStateOf(pod: PodFacts, job: (namespace: string, name: string) => JobFacts | undefined): PodState {
  return pod.owner?.kind === 'Job' ? toPodState(pod, job) : pod;
}

/** The workload key owning a pod, reused while the pod and its ReplicaSet are the same objects. */
export function ownerKeyOf(pod: PodFacts, replicaSet: (namespace: string, name: string) => ReplicaSetFacts | undefined, isWorkloadKind: (kind: string) => boolean): string | undefined {
  const rs = pod.owner?.kind === 'ReplicaSet' ? replicaSet(pod.namespace, pod.owner.name) : undefined;
  const previous = owners.get(pod);
  if (previous !== undefined && previous.replicaSet === rs) return previous.key;
  const key = workloadOwnerKey(pod, () => rs, isWorkloadKind);
  owners.set(pod, { replicaSet: rs, key });
  return key;
}

/** A workload with its pods: the previous object while the workload and each of its pods are unchanged. */
export function withPodsRemembered(facts: WorkloadFacts, podsByOwner: ReadonlyMap<string, readonly PodState[]>): WorkloadState {
  const pods = podsByOwner.get(workloadKey(facts.kind, facts.namespace, facts.name)) ?? [];
  const previous = joined.get(facts);
  if (previous !== undefined && sameItems(previous.pods, pods)) return previous;
  const state: WorkloadState = { ...facts, pods };
  joined.set(facts, state);
  return state;
}
