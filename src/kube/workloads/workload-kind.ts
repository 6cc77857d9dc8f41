// What the operator needs from one workload kind, defined once per kind (kstatus-style per-kind table): how to
// list and watch it, read and patch it, and how its status says a rollout is done. The rest of src/kube
// iterates the table in index.ts; a new kind is one file plus one registry line there.
import type { KubernetesListObject, KubernetesObject, V1PodTemplateSpec } from '@kubernetes/client-node';
import { RESTARTED_AT_ANNOTATION, RESTARTED_FOR_ANNOTATION } from '../../api/constants.ts';
import type { PodState, RolloutState, UpdateMode, WorkloadKind, WorkloadState } from '../../core/observed.ts';
import { TransientError } from '../../core/errors.ts';
import { classifyApiError, statusCodeOf } from '../api-errors.ts';
import type { KubeClients } from '../clients.ts';
import { PATCH_TYPES, type PatchOptions } from '../rest/api-groups.ts';
import { Informer, type InformerEvent, type ListPage, type ManagedInformer } from '../informer.ts';
import { intern, internValues } from '../intern.ts';

interface WorkloadObject extends KubernetesObject {
  spec?: { template: V1PodTemplateSpec };
}

/** The per-kind part: API calls and status interpretation. */
export interface WorkloadKindSpec<T extends WorkloadObject> {
  readonly kind: WorkloadKind;
  /** Plural resource name (RBAC, messages). */
  readonly resource: string;
  /** Cluster-wide watch path. */
  readonly path: string;
  /** One page of the cluster-wide list (all of it when no page is given). */
  list(clients: KubeClients, page?: ListPage): Promise<KubernetesListObject<T>>;
  read(clients: KubeClients, namespace: string, name: string): Promise<T>;
  patch(clients: KubeClients, namespace: string, name: string, body: object, options: PatchOptions): Promise<T>;
  rollout(object: T): RolloutState;
  updateMode(object: T): UpdateMode;
}

/** Pods already grouped by their owning workload key (`kind/namespace/name`). */
export type PodsByOwner = ReadonlyMap<string, readonly PodState[]>;

/** A workload as cached: everything but its pods, which are joined at observe time. */
export type WorkloadFacts = Omit<WorkloadState, 'pods'>;

/** A source of workloads of one kind: a live informer, or a one-shot list (the `plan` command). */
export interface WorkloadSource {
  readonly kind: WorkloadKind;
  /** The informer behind the source, when it is one (started and stopped with the others). */
  readonly informer: ManagedInformer | undefined;
  facts(namespace?: string): readonly WorkloadFacts[];
  /** The resourceVersion last seen of one workload (live informers only). */
  resourceVersion?(namespace: string, name: string): string | undefined;
}

export interface WorkloadAdapter {
  readonly kind: WorkloadKind;
  readonly resource: string;
  /** An informer over every namespace, reporting every change. */
  watch(clients: KubeClients, onEvent: (event: InformerEvent, workload: WorkloadFacts) => void, onFailure: (error: unknown, retryInMs: number) => void): WorkloadSource;
  /** One list, for commands that look once. */
  snapshot(clients: KubeClients): Promise<WorkloadSource>;
  /**
   * `kubectl rollout restart`, conditional on a resourceVersion, and skipped when already stamped. With the
   * resourceVersion the planner's cache holds, one PATCH; when that is stale (409), or without it, read first.
   */
  restart(clients: KubeClients, namespace: string, name: string, stamp: string, restartedAt: string, cachedResourceVersion?: string): Promise<'done' | 'skipped'>;
}

export function workloadKey(kind: WorkloadKind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** kubectl's client-side apply keeps a copy of the whole object in this annotation: never worth caching. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function withoutLastApplied(annotations: Record<string, string> | undefined): Record<string, string> {
  if (annotations === undefined) return {};
  if (!Object.hasOwn(annotations, LAST_APPLIED)) return annotations;
  return Object.fromEntries(Object.entries(annotations).filter(([key]) => key !== LAST_APPLIED));
}

export function toWorkloadFacts<T extends WorkloadObject>(spec: WorkloadKindSpec<T>, object: T): WorkloadFacts {
  const template = object.spec?.template;
  return {
    kind: spec.kind,
    namespace: intern(object.metadata?.namespace ?? ''),
    name: intern(object.metadata?.name ?? ''),
    labels: internValues(object.metadata?.labels),
    annotations: internValues(withoutLastApplied(object.metadata?.annotations)),
    templateLabels: internValues(template?.metadata?.labels),
    templateAnnotations: internValues(template?.metadata?.annotations),
    templateContainers: [...(template?.spec?.initContainers ?? []), ...(template?.spec?.containers ?? [])].map((c) => ({ name: intern(c.name), image: c.image === undefined ? undefined : intern(c.image) })),
    hostNetwork: template?.spec?.hostNetwork === true,
    update: spec.updateMode(object),
    rollout: spec.rollout(object),
  };
}

export function defineWorkloadKind<T extends WorkloadObject>(spec: WorkloadKindSpec<T>): WorkloadAdapter {
  return {
    kind: spec.kind,
    resource: spec.resource,
    watch(clients, onEvent, onFailure) {
      const informer = new Informer<T, WorkloadFacts>(clients.watcher, {
        name: spec.resource,
        path: spec.path,
        list: (page) => clients.lists.list(spec.path, page) as Promise<KubernetesListObject<T>>,
        transform: (o) => toWorkloadFacts(spec, o),
        onEvent,
        onFailure,
      });
      return { kind: spec.kind, informer, facts: (namespace) => informer.list(namespace), resourceVersion: (namespace, name) => informer.resourceVersionOf(name, namespace) };
    },
    async snapshot(clients) {
      const facts = (await spec.list(clients)).items.map((o) => toWorkloadFacts(spec, o));
      return { kind: spec.kind, informer: undefined, facts: (namespace) => (namespace === undefined ? facts : facts.filter((f) => f.namespace === namespace)) };
    },
    async restart(clients, namespace, name, stamp, restartedAt, cachedResourceVersion) {
      const what = `${spec.resource} ${namespace}/${name}`;
      // The resourceVersion makes the patch conditional: if the workload changed since it was seen (a stamp
      // already there included), the API server answers 409 and it is read again.
      const patch = (resourceVersion: string) =>
        spec.patch(
          clients,
          namespace,
          name,
          { metadata: { resourceVersion }, spec: { template: { metadata: { annotations: { [RESTARTED_FOR_ANNOTATION]: stamp, [RESTARTED_AT_ANNOTATION]: restartedAt } } } } },
          { contentType: PATCH_TYPES.merge },
        );
      if (cachedResourceVersion !== undefined) {
        try {
          await patch(cachedResourceVersion);
          return 'done';
        } catch (error) {
          if (statusCodeOf(error) !== 409) throw classifyApiError(error, `patch ${what}`);
        }
      }
      let current: T;
      try {
        current = await spec.read(clients, namespace, name);
      } catch (error) {
        throw classifyApiError(error, `get ${what}`);
      }
      if (current.spec?.template.metadata?.annotations?.[RESTARTED_FOR_ANNOTATION] === stamp) return 'skipped';
      const resourceVersion = current.metadata?.resourceVersion;
      if (resourceVersion === undefined) throw new TransientError(`${what} has no resourceVersion`);
      try {
        await patch(resourceVersion);
      } catch (error) {
        throw classifyApiError(error, `patch ${what}`);
      }
      return 'done';
    },
  };
}
