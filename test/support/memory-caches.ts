// Caches over fixed Kubernetes objects, reduced by the same transforms the informers use: for reconciler tests
// that need a pass to observe something without an API server.
import type { KubernetesObject, V1ClusterRoleBinding, V1Deployment, V1Job, V1MutatingWebhookConfiguration, V1Namespace } from '@kubernetes/client-node';
import type { Caches, RawUpgrade } from '../../src/kube/caches.ts';
import type { Store } from '../../src/kube/informer.ts';
import { toInstallerBindingFacts, toJobFacts, toNamespaceState, toWebhookConfiguration } from '../../src/kube/to-observed.ts';
import { deploymentKind } from '../../src/kube/workloads/deployment.ts';
import { toWorkloadFacts } from '../../src/kube/workloads/workload-kind.ts';

function store<S extends { namespace?: string; name: string }>(items: readonly S[]): Store<S> {
  return {
    get: (name, namespace = '') => items.find((i) => i.name === name && (i.namespace ?? '') === namespace),
    list: (namespace) => (namespace === undefined ? items : items.filter((i) => (i.namespace ?? '') === namespace)),
  };
}

export interface MemoryObjects {
  readonly upgrades?: RawUpgrade[];
  readonly namespaces?: V1Namespace[];
  readonly deployments?: V1Deployment[];
  readonly mutatingWebhooks?: V1MutatingWebhookConfiguration[];
  readonly jobs?: V1Job[];
  readonly installerBindings?: V1ClusterRoleBinding[];
}

export function memoryCaches(objects: MemoryObjects): Caches & { upgradesList: RawUpgrade[] } {
  const upgradesList = objects.upgrades ?? [];
  const upgrades: Store<RawUpgrade> = {
    get: (name) => upgradesList.find((u: KubernetesObject) => u.metadata?.name === name),
    list: () => upgradesList,
  };
  const facts = (objects.deployments ?? []).map((d) => toWorkloadFacts(deploymentKind, d));
  return {
    upgradesList,
    upgrades,
    namespaces: store((objects.namespaces ?? []).map(toNamespaceState)),
    workloads: [{ kind: 'Deployment', informer: undefined, facts: (ns) => (ns === undefined ? facts : facts.filter((f) => f.namespace === ns)) }],
    replicaSets: store([]),
    pods: store([]),
    jobs: store((objects.jobs ?? []).map(toJobFacts)),
    services: store([]),
    mutatingWebhooks: store((objects.mutatingWebhooks ?? []).map(toWebhookConfiguration)),
    validatingWebhooks: store([]),
    installerBindings: store((objects.installerBindings ?? []).map(toInstallerBindingFacts)),
  };
}
