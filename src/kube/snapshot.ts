// One look at the cluster, for commands that do not watch (`istio-upgrade-operator plan`): the same reduced
// objects the informers hold, listed once, behind the same Caches interface, so observe() is shared.
import type { KubernetesObject } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, ISTIO_REV_LABEL, PLURAL } from '../api/constants.ts';
import type { Caches, RawUpgrade } from './caches.ts';
import type { KubeClients } from './clients.ts';
import type { ListResult, Store } from './informer.ts';
import { toJobFacts, toNamespaceState, toPodFacts, toReplicaSetFacts, toServiceState, toWebhookConfiguration, trimUpgrade } from './to-observed.ts';
import { WORKLOADS } from './workloads/index.ts';

class ListStore<S extends { namespace?: string; name: string }> implements Store<S> {
  private readonly items: readonly S[];
  constructor(items: readonly S[]) {
    this.items = items;
  }
  get(name: string, namespace = ''): S | undefined {
    return this.items.find((i) => i.name === name && (i.namespace ?? '') === namespace);
  }
  list(namespace?: string): readonly S[] {
    return namespace === undefined ? this.items : this.items.filter((i) => (i.namespace ?? '') === namespace);
  }
}

async function listed<T extends KubernetesObject, S extends { namespace?: string; name: string }>(request: Promise<ListResult<T>>, transform: (o: T) => S): Promise<Store<S>> {
  return new ListStore((await request).items.map(transform));
}

/** Only what `plan` needs of IstioUpgrades: their scheduling fields, keyed like the others. */
function upgradeStore(items: readonly RawUpgrade[]): Store<RawUpgrade> {
  return {
    get: (name) => items.find((u) => u.metadata?.name === name),
    list: () => items,
  };
}

export async function snapshotCaches(clients: KubeClients, istioNamespace: string): Promise<Caches> {
  const { core, apps, batch, admission, custom } = clients;
  const [upgrades, namespaces, workloads, replicaSets, pods, jobs, services, mutatingWebhooks, validatingWebhooks] = await Promise.all([
    (custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL }) as Promise<ListResult<RawUpgrade>>).then((l) => upgradeStore(l.items.map(trimUpgrade))),
    listed(core.listNamespace(), toNamespaceState),
    Promise.all(Object.values(WORKLOADS).map((adapter) => adapter.snapshot(clients))),
    listed(apps.listReplicaSetForAllNamespaces(), toReplicaSetFacts),
    listed(core.listPodForAllNamespaces(), toPodFacts),
    listed(batch.listJobForAllNamespaces(), toJobFacts),
    listed(core.listNamespacedService({ namespace: istioNamespace, labelSelector: ISTIO_REV_LABEL }), toServiceState),
    listed(admission.listMutatingWebhookConfiguration({ labelSelector: ISTIO_REV_LABEL }), toWebhookConfiguration),
    listed(admission.listValidatingWebhookConfiguration({ labelSelector: ISTIO_REV_LABEL }), toWebhookConfiguration),
  ]);
  // `plan` carries out no action, so it needs no look at (nor the right to read) the installer's binding.
  return { upgrades, namespaces, workloads, replicaSets, pods, jobs, services, mutatingWebhooks, validatingWebhooks, installerBindings: new ListStore([]) };
}
