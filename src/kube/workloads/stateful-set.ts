// StatefulSets: RollingUpdate rolls pod by pod; OnDelete only replaces deleted pods; a partition > 0
// keeps the lower ordinals on the old template on purpose.
import type { V1StatefulSet } from '@kubernetes/client-node';
import { defineWorkloadKind, type WorkloadKindSpec } from './workload-kind.ts';

export const statefulSetKind: WorkloadKindSpec<V1StatefulSet> = {
  kind: 'StatefulSet',
  resource: 'statefulsets',
  path: '/apis/apps/v1/statefulsets',
  list: (c, page) => c.apps.listStatefulSetForAllNamespaces(page),
  read: (c, namespace, name) => c.apps.readNamespacedStatefulSet({ namespace, name }),
  patch: (c, namespace, name, body, options) => c.apps.patchNamespacedStatefulSet({ namespace, name, body }, options),
  rollout: (s) => ({
    generation: s.metadata?.generation ?? 0,
    observedGeneration: s.status?.observedGeneration ?? 0,
    desired: s.spec?.replicas ?? 1,
    updated: s.status?.updatedReplicas ?? 0,
    ready: s.status?.availableReplicas ?? s.status?.readyReplicas ?? 0,
    total: s.status?.replicas ?? 0,
  }),
  updateMode: (s) => {
    const strategy = s.spec?.updateStrategy;
    if (strategy?.type === 'OnDelete') return 'onDelete';
    return (strategy?.rollingUpdate?.partition ?? 0) > 0 ? 'partitioned' : 'rolling';
  },
};

export const statefulSets = defineWorkloadKind(statefulSetKind);
