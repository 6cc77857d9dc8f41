// Records every change of the pods in one namespace, in the order the API server sent them, so a test can check
// an ordering property (e.g. "never two pods of a workload down at once") without reading wall-clock times.
import { Watch, type V1Pod } from '@kubernetes/client-node';
import type { Kube } from './kube.ts';

export interface PodChange {
  readonly type: string;
  readonly name: string;
  readonly uid: string;
  readonly app: string | undefined;
  /** Running, Ready and not being deleted. */
  readonly available: boolean;
}

export interface PodWatch {
  /** How many of `changes` are the initial listing. */
  readonly initial: number;
  /** The pods listed when the watch began (as ADDED), then every change since, in order. */
  readonly changes: PodChange[];
  stop(): void;
}

function isAvailable(pod: V1Pod, type: string): boolean {
  if (type === 'DELETED' || pod.metadata?.deletionTimestamp !== undefined || pod.status?.phase !== 'Running') return false;
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export async function watchPods(kube: Kube, namespace: string): Promise<PodWatch> {
  const list = await kube.core.listNamespacedPod({ namespace });
  const change = (type: string, pod: V1Pod): PodChange => ({ type, name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', app: pod.metadata?.labels?.app, available: isAvailable(pod, type) });
  const changes: PodChange[] = list.items.map((pod) => change('ADDED', pod));
  const request = await new Watch(kube.config).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { resourceVersion: list.metadata?.resourceVersion },
    (type: string, pod: V1Pod) => {
      changes.push(change(type, pod));
    },
    () => undefined,
  );
  return {
    initial: list.items.length,
    changes,
    stop: () => {
      request.abort();
    },
  };
}

/** The fewest available pods of `app` at any point from the initial listing (the first `initial` changes) on. */
export function fewestAvailable(changes: readonly PodChange[], initial: number, app: string): number {
  const available = new Map<string, boolean>();
  const apply = (change: PodChange) => {
    if (change.type === 'DELETED') available.delete(change.uid);
    else available.set(change.uid, change.available);
  };
  const count = () => [...available.values()].filter(Boolean).length;
  const mine = (change: PodChange) => change.app === app;
  changes.slice(0, initial).filter(mine).forEach(apply);
  let fewest = count();
  for (const change of changes.slice(initial).filter(mine)) {
    apply(change);
    fewest = Math.min(fewest, count());
  }
  return fewest;
}
