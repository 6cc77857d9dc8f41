// The informers behind ObservedState. Each keeps a reduced copy of what the planner reads and reports every
// change; they come back by themselves after watch cuts and API errors (informer.ts).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_GROUP, API_VERSION, ISTIO_REV_LABEL, PLURAL } from '../api/constants.ts';
import type { NamespaceState, ServiceState, WebhookConfiguration } from '../core/observed.ts';
import type { KubeClients } from './clients.ts';
import { Informer, type InformerEvent, type InformerHealth, type ListPage, type ListResult, type ManagedInformer, type Store } from './informer.ts';
import {
  toInstallerBindingFacts,
  toJobFacts,
  toNamespaceState,
  toPodFacts,
  toReplicaSetFacts,
  toServiceState,
  toWebhookConfiguration,
  trimUpgrade,
  type InstallerBindingFacts,
  type JobFacts,
  type PodFacts,
  type ReplicaSetFacts,
} from './to-observed.ts';
import { WORKLOADS, type WorkloadFacts, type WorkloadSource } from './workloads/index.ts';

export interface RawUpgrade extends KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

/** What changed, for the controller to decide which upgrades to look at. */
export type Change =
  | { readonly kind: 'upgrade'; readonly name: string }
  | { readonly kind: 'namespaced'; readonly resource: string; readonly namespace: string }
  | { readonly kind: 'cluster'; readonly resource: string };

export interface Caches {
  readonly upgrades: Store<RawUpgrade>;
  readonly namespaces: Store<NamespaceState>;
  /** One source per workload kind of the adapter table. */
  readonly workloads: readonly WorkloadSource[];
  readonly replicaSets: Store<ReplicaSetFacts>;
  readonly pods: Store<PodFacts>;
  readonly jobs: Store<JobFacts>;
  readonly services: Store<ServiceState>;
  readonly mutatingWebhooks: Store<WebhookConfiguration>;
  readonly validatingWebhooks: Store<WebhookConfiguration>;
  /** The installer's ClusterRoleBinding (one name), present only while an installer Job runs. */
  readonly installerBindings: Store<InstallerBindingFacts>;
  /** Which namespaces' namespaced objects changed (live caches only): lets a pass reuse what it derived. */
  readonly namespaceChanges?: NamespaceChanges;
}

/** The namespaces in which a namespaced object the caches keep changed. */
export interface NamespaceChanges {
  /** Those changed since the last call (on the first call: every namespace that held an object). */
  takeChanged(): ReadonlySet<string>;
}

export class InformerSet {
  readonly caches: Caches;
  private readonly informers: ManagedInformer[] = [];

  constructor(clients: KubeClients, istioNamespace: string, installerBinding: string, log: Logger, notify: (change: Change) => void) {
    const { watcher, lists } = clients;
    // Noted before anyone is told, so that a pass woken by a change sees the namespace as changed.
    let changed = new Set<string>();
    const onChange = (change: Change): void => {
      if (change.kind === 'namespaced') changed.add(change.namespace);
      notify(change);
    };
    const add = <T extends KubernetesObject, S>(
      name: string,
      path: string,
      transform: (o: T) => S,
      change: (event: InformerEvent, object: S) => Change,
      labelSelector?: string,
      fieldSelector?: string,
    ): Informer<T, S> => {
      const informer = new Informer<T, S>(watcher, {
        name,
        path,
        // Plain JSON pages, shaped as the watch delivers them (timestamps as strings): transform reads both alike.
        list: (page: ListPage) => lists.list(path, { ...page, labelSelector, fieldSelector }) as Promise<ListResult<T>>,
        transform,
        labelSelector,
        fieldSelector,
        onEvent: (event, object) => {
          onChange(change(event, object));
        },
        onFailure: (error, retryInMs) => {
          log.warn({ informer: name, err: error, retryInMs }, 'watch failed; restarting informer');
        },
      });
      this.informers.push(informer);
      return informer;
    };
    const namespaced = (resource: string) => (_: InformerEvent, o: { namespace: string }): Change => ({ kind: 'namespaced', resource, namespace: o.namespace });
    const clusterScoped = (resource: string) => (): Change => ({ kind: 'cluster', resource });

    const workloads = Object.values(WORKLOADS).map((adapter) =>
      adapter.watch(
        clients,
        (_event, w: WorkloadFacts) => {
          onChange({ kind: 'namespaced', resource: adapter.resource, namespace: w.namespace });
        },
        (error, retryInMs) => {
          log.warn({ informer: adapter.resource, err: error, retryInMs }, 'watch failed; restarting informer');
        },
      ),
    );
    for (const source of workloads) if (source.informer !== undefined) this.informers.push(source.informer);

    this.caches = {
      upgrades: add<RawUpgrade, RawUpgrade>(
        'istioupgrades',
        `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`,
        trimUpgrade,
        (_, u) => ({ kind: 'upgrade', name: u.metadata?.name ?? '' }),
      ),
      namespaces: add('namespaces', '/api/v1/namespaces', toNamespaceState, clusterScoped('namespaces')),
      workloads,
      replicaSets: add('replicasets', '/apis/apps/v1/replicasets', toReplicaSetFacts, namespaced('replicasets')),
      pods: add('pods', '/api/v1/pods', toPodFacts, namespaced('pods')),
      jobs: add('jobs', '/apis/batch/v1/jobs', toJobFacts, namespaced('jobs')),
      services: add(
        'services',
        `/api/v1/namespaces/${istioNamespace}/services`,
        toServiceState,
        namespaced('services'),
        ISTIO_REV_LABEL,
      ),
      mutatingWebhooks: add(
        'mutatingwebhookconfigurations',
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
        toWebhookConfiguration,
        clusterScoped('mutatingwebhookconfigurations'),
        ISTIO_REV_LABEL,
      ),
      validatingWebhooks: add(
        'validatingwebhookconfigurations',
        '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
        toWebhookConfiguration,
        clusterScoped('validatingwebhookconfigurations'),
        ISTIO_REV_LABEL,
      ),
      installerBindings: add(
        'clusterrolebindings',
        '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
        toInstallerBindingFacts,
        clusterScoped('clusterrolebindings'),
        undefined,
        `metadata.name=${installerBinding}`,
      ),
      namespaceChanges: {
        takeChanged: () => {
          const taken = changed;
          changed = new Set();
          return taken;
        },
      },
    };
  }

  /** Resolves once every informer has made its first list attempt (failed ones keep retrying). */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
  }

  health(nowMs = Date.now()): InformerHealth[] {
    return this.informers.map((i) => i.health(nowMs));
  }

  /** True once every informer has listed and none has been failing for long. */
  synced(nowMs = Date.now()): boolean {
    return this.health(nowMs).every((h) => h.up);
  }

  unsynced(nowMs = Date.now()): string[] {
    return this.health(nowMs).filter((h) => !h.up).map((h) => (h.lastError === undefined ? h.name : `${h.name} (${h.lastError})`));
  }

  stop(): void {
    for (const informer of this.informers) informer.stop();
  }
}
