// DaemonSets: one pod per node; RollingUpdate replaces them, OnDelete only replaces deleted pods.
import type { V1DaemonSet } from '@kubernetes/client-node';
import { defineWorkloadKind, type WorkloadKindSpec } from './workload-kind.ts';

export const daemonSetKind: WorkloadKindSpec<V1DaemonSet> = {
  kind: 'DaemonSet',
  resource: 'daemonsets',
  path: '/apis/apps/v1/daemonsets',
  list: (c, page) => c.apps.listDaemonSetForAllNamespaces(page),
  read: (c, namespace, name) => c.apps.readNamespacedDaemonSet({ namespace, name }),
  patch: (c, namespace, name, body, options) => c.apps.patchNamespacedDaemonSet({ namespace, name, body }, options),
  rollout: (d) => ({
    generation: d.metadata?.generation ?? 0,
    observedGeneration: d.status?.observedGeneration ?? 0,
    desired: d.status?.desiredNumberScheduled ?? 0,
    updated: d.status?.updatedNumberScheduled ?? 0,
    ready: d.status?.numberAvailable ?? 0,
    total: d.status?.currentNumberScheduled ?? 0,
  }),
  updateMode: (d) => (d.spec?.updateStrategy?.type === 'OnDelete' ? 'onDelete' : 'rolling'),
};

export const daemonSets = defineWorkloadKind(daemonSetKind);
