// The workload kinds the operator restarts. A new kind: one file beside this one, one line here.
import type { WorkloadKind } from '../../core/observed.ts';
import { daemonSets } from './daemon-set.ts';
import { deployments } from './deployment.ts';
import { statefulSets } from './stateful-set.ts';
import type { WorkloadAdapter } from './workload-kind.ts';

export const WORKLOADS: Readonly<Record<WorkloadKind, WorkloadAdapter>> = {
  Deployment: deployments,
  StatefulSet: statefulSets,
  DaemonSet: daemonSets,
};

export { workloadKey, type PodsByOwner, type WorkloadAdapter, type WorkloadFacts, type WorkloadSource } from './workload-kind.ts';
