// Deployments: rolled by the Deployment controller; a paused Deployment never rolls.
import type { V1Deployment } from '@kubernetes/client-node';
import { defineWorkloadKind, type WorkloadKindSpec } from './workload-kind.ts';

export const deploymentKind: WorkloadKindSpec<V1Deployment> = {
  kind: 'Deployment',
  resource: 'deployments',
  path: '/apis/apps/v1/deployments',
  list: (c, page) => c.apps.listDeploymentForAllNamespaces(page),
  read: (c, namespace, name) => c.apps.readNamespacedDeployment({ namespace, name }),
  patch: (c, namespace, name, body, options) => c.apps.patchNamespacedDeployment({ namespace, name, body }, options),
  rollout: (d) => ({
    generation: d.metadata?.generation ?? 0,
    observedGeneration: d.status?.observedGeneration ?? 0,
    desired: d.spec?.replicas ?? 1,
    updated: d.status?.updatedReplicas ?? 0,
    ready: d.status?.availableReplicas ?? d.status?.readyReplicas ?? 0,
    total: d.status?.replicas ?? 0,
  }),
  updateMode: (d) => (d.spec?.paused === true ? 'paused' : 'rolling'),
};

export const deployments = defineWorkloadKind(deploymentKind);
