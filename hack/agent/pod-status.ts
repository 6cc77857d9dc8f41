// Writes pod status the way the kubelet does, through the status subresource. Every update reads the pod, lets the
// caller compute a patch from what it sees, and sends it with the read resourceVersion as precondition, retrying on
// conflicts: kwok and the Job controller write the same pods concurrently.
import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Api, V1Pod, V1PodCondition } from '@kubernetes/client-node';

/** Plain JSON of the status fields this agent writes (times as RFC 3339 strings). */
export interface PodConditionPatch {
  readonly type: string;
  readonly status: 'True' | 'False';
  readonly reason?: string;
  readonly lastTransitionTime: string;
}

export type ContainerState =
  | { readonly waiting: { readonly reason: string; readonly message?: string } }
  | { readonly running: { readonly startedAt: string } }
  | {
      readonly terminated: {
        readonly exitCode: number;
        readonly signal?: number;
        readonly reason: string;
        readonly message: string;
        readonly startedAt: string;
        readonly finishedAt: string;
      };
    };

export interface ContainerStatusPatch {
  readonly name: string;
  readonly containerID?: string;
  readonly image: string;
  readonly imageID: string;
  readonly ready: boolean;
  readonly started: boolean;
  readonly restartCount: number;
  readonly state: ContainerState;
}

export interface PodStatusPatch {
  readonly phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  readonly reason?: string;
  readonly message?: string;
  readonly startTime?: string;
  readonly conditions?: readonly PodConditionPatch[];
  /** Replaced as a whole (the list has no merge key), so every container must be in it. */
  readonly containerStatuses?: readonly ContainerStatusPatch[];
}

/** RFC 3339 with second precision, as the API server stores `metav1.Time`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The condition to write, keeping the old transition time when the status does not change (as the kubelet does). */
export function condition(pod: V1Pod, type: string, status: boolean, reason?: string): PodConditionPatch {
  const current: V1PodCondition | undefined = pod.status?.conditions?.find((c) => c.type === type);
  const value = status ? 'True' : 'False';
  const since = current?.status === value ? current.lastTransitionTime : undefined;
  const lastTransitionTime = rfc3339(since === undefined ? new Date() : new Date(since));
  return { type, status: value, lastTransitionTime, ...(reason === undefined ? {} : { reason }) };
}

export function hasCondition(pod: V1Pod, type: string, status: boolean): boolean {
  return pod.status?.conditions?.some((c) => c.type === type && c.status === (status ? 'True' : 'False')) ?? false;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

/**
 * Reads the pod and applies `compute`'s patch (a strategic merge patch: conditions merge by type, the other fields
 * are replaced). Returns false when the pod is gone or `compute` decided there is nothing to do.
 */
export async function updatePodStatus(
  core: CoreV1Api,
  namespace: string,
  name: string,
  compute: (pod: V1Pod) => PodStatusPatch | undefined,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    let pod: V1Pod;
    try {
      pod = await core.readNamespacedPod({ name, namespace });
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    const status = compute(pod);
    if (status === undefined) return false;
    const body = { metadata: { resourceVersion: pod.metadata?.resourceVersion }, status };
    try {
      await core.patchNamespacedPodStatus(
        { name, namespace, body, fieldManager: 'iuo-node-agent' },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      const conflict = err instanceof ApiException && err.code === 409;
      if (!conflict || attempt >= 10) throw err;
    }
  }
}
