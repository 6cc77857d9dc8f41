// Informer caches of everything the operator observes. Informers only keep caches and signal "something
// changed"; they restart themselves after watch errors (an expired resourceVersion relists).
import {
  type KubernetesObject,
  type V1DaemonSet,
  type V1Deployment,
  type V1Job,
  type V1MutatingWebhookConfiguration,
  type V1Namespace,
  type V1Pod,
  type V1ReplicaSet,
  type V1Service,
  type V1StatefulSet,
  type V1ValidatingWebhookConfiguration,
  type Informer,
  type ObjectCache,
  type KubernetesListObject,
  makeInformer,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_GROUP, API_VERSION, ISTIO_REV_LABEL, PLURAL } from '../api/constants.ts';
import type { KubeClients } from './clients.ts';

type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface RawUpgrade extends KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

export interface Caches {
  readonly upgrades: ObjectCache<RawUpgrade>;
  readonly namespaces: ObjectCache<V1Namespace>;
  readonly deployments: ObjectCache<V1Deployment>;
  readonly statefulSets: ObjectCache<V1StatefulSet>;
  readonly daemonSets: ObjectCache<V1DaemonSet>;
  readonly replicaSets: ObjectCache<V1ReplicaSet>;
  readonly pods: ObjectCache<V1Pod>;
  readonly jobs: ObjectCache<V1Job>;
  readonly services: ObjectCache<V1Service>;
  readonly mutatingWebhooks: ObjectCache<V1MutatingWebhookConfiguration>;
  readonly validatingWebhooks: ObjectCache<V1ValidatingWebhookConfiguration>;
}

export type ChangeKind = 'upgrade' | 'cluster';

interface SyncState {
  synced: boolean;
  lastError: string | undefined;
}

interface InformerEntry {
  readonly name: string;
  readonly informer: Cache<KubernetesObject>;
  readonly state: SyncState;
}

function errorText(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') {
    const body = 'body' in error ? String(error.body) : '';
    return `HTTP ${error.code}${body === '' ? '' : `: ${body.slice(0, 300)}`}`;
  }
  return error instanceof Error ? error.message : String(error);
}

const RESTART_DELAY_MS = { min: 1_000, max: 30_000 };

export class InformerSet {
  readonly caches: Caches;
  private readonly informers: InformerEntry[] = [];
  private stopped = false;
  private readonly log: Logger;

  constructor(clients: KubeClients, istioNamespace: string, log: Logger, onChange: (kind: ChangeKind, object: KubernetesObject) => void) {
    this.log = log;
    const { config, core, apps, batch, admission, custom } = clients;
    // An informer counts as synced only once its list succeeded; a failed list or watch unsyncs it. (The
    // client's start() resolves even when the list fails, so it proves nothing.)
    const add = <T extends KubernetesObject>(name: string, kind: ChangeKind, make: (listed: <L>(request: Promise<L>) => Promise<L>) => Cache<T>): Cache<T> => {
      const state: SyncState = { synced: false, lastError: undefined };
      const listed = async <L>(request: Promise<L>): Promise<L> => {
        try {
          const result = await request;
          state.synced = true;
          state.lastError = undefined;
          return result;
        } catch (error) {
          state.synced = false;
          state.lastError = errorText(error);
          throw error;
        }
      };
      const informer = make(listed);
      const entry: InformerEntry = { name, informer, state };
      this.informers.push(entry);
      const notify = (object: T) => {
        onChange(kind, object);
      };
      informer.on('add', notify);
      informer.on('update', notify);
      informer.on('delete', notify);
      informer.on('error', (error: unknown) => {
        state.synced = false;
        state.lastError = errorText(error);
        this.restart(entry, error, RESTART_DELAY_MS.min);
      });
      return informer;
    };
    const asList = <T>(promise: Promise<T>) => promise as unknown as Promise<KubernetesListObject<never>>;
    this.caches = {
      upgrades: add<RawUpgrade>('istioupgrades', 'upgrade', (listed) => makeInformer(config, `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`, () =>
        asList(listed(custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL }))),
      )),
      namespaces: add('namespaces', 'cluster', (listed) => makeInformer(config, '/api/v1/namespaces', () => asList(listed(core.listNamespace())))),
      deployments: add('deployments', 'cluster', (listed) => makeInformer(config, '/apis/apps/v1/deployments', () => asList(listed(apps.listDeploymentForAllNamespaces())))),
      statefulSets: add('statefulsets', 'cluster', (listed) => makeInformer(config, '/apis/apps/v1/statefulsets', () => asList(listed(apps.listStatefulSetForAllNamespaces())))),
      daemonSets: add('daemonsets', 'cluster', (listed) => makeInformer(config, '/apis/apps/v1/daemonsets', () => asList(listed(apps.listDaemonSetForAllNamespaces())))),
      replicaSets: add('replicasets', 'cluster', (listed) => makeInformer(config, '/apis/apps/v1/replicasets', () => asList(listed(apps.listReplicaSetForAllNamespaces())))),
      pods: add('pods', 'cluster', (listed) => makeInformer(config, '/api/v1/pods', () => asList(listed(core.listPodForAllNamespaces())))),
      jobs: add('jobs', 'cluster', (listed) => makeInformer(config, '/apis/batch/v1/jobs', () => asList(listed(batch.listJobForAllNamespaces())))),
      services: add('services', 'cluster', (listed) => makeInformer(config, `/api/v1/namespaces/${istioNamespace}/services`, () => asList(listed(core.listNamespacedService({ namespace: istioNamespace }))))),
      mutatingWebhooks: add('mutatingwebhookconfigurations', 'cluster', (listed) => makeInformer(
        config,
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
        () => asList(listed(admission.listMutatingWebhookConfiguration({ labelSelector: ISTIO_REV_LABEL }))),
        ISTIO_REV_LABEL,
      )),
      validatingWebhooks: add('validatingwebhookconfigurations', 'cluster', (listed) => makeInformer(
        config,
        '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
        () => asList(listed(admission.listValidatingWebhookConfiguration({ labelSelector: ISTIO_REV_LABEL }))),
        ISTIO_REV_LABEL,
      )),
    };
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map(async (entry) => {
      try {
        await entry.informer.start();
      } catch (error) {
        entry.state.lastError = errorText(error);
        this.restart(entry, error, RESTART_DELAY_MS.min);
      }
    }));
  }

  /** True once every informer has listed at least once and is watching. */
  synced(): boolean {
    return this.informers.every((i) => i.state.synced);
  }

  unsynced(): string[] {
    return this.informers.filter((i) => !i.state.synced).map((i) => (i.state.lastError === undefined ? i.name : `${i.name} (${i.state.lastError})`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map((i) => i.informer.stop()));
  }

  private restart(entry: InformerEntry, error: unknown, delayMs: number): void {
    if (this.stopped) return;
    this.log.warn({ informer: entry.name, err: error, retryInMs: delayMs }, 'watch failed; restarting informer');
    setTimeout(() => {
      if (this.stopped) return;
      entry.informer.start().then(
        () => undefined,
        (again: unknown) => {
          entry.state.lastError = errorText(again);
          this.restart(entry, again, Math.min(delayMs * 2, RESTART_DELAY_MS.max));
        },
      );
    }, delayMs).unref();
  }
}
