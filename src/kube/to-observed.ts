// Converts Kubernetes objects into the planner's ObservedState shapes. The informers apply these on insert,
// so each object is parsed once per resourceVersion, not once per pass.
import type {
  V1ClusterRoleBinding,
  V1Job,
  V1MutatingWebhookConfiguration,
  V1Namespace,
  V1Pod,
  V1ReplicaSet,
  V1Service,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { GRANTED_FOR_ANNOTATION, ISTIO_PROXY_CONTAINER, ISTIO_REV_LABEL, SIDECAR_STATUS_ANNOTATION } from '../api/constants.ts';
import type { LabelSelector } from '../api/schema.ts';
import type {
  ContainerState,
  JobOutcome,
  NamespaceState,
  PodState,
  RevisionState,
  ServiceState,
  WebhookConfiguration,
  WebhookEntry,
} from '../core/observed.ts';
import { versionFromImage, formatVersion } from '../core/version.ts';
import { intern, internOptional, internValues } from './intern.ts';
import type { WorkloadFacts } from './workloads/index.ts';

type Labels = Readonly<Record<string, string>>;

/** The revision in `sidecar.istio.io/status` ({"revision":"1-31-0",...}); undefined when absent or unreadable. */
export function injectedRevision(annotations: Labels | undefined): string | undefined {
  const raw = annotations?.[SIDECAR_STATUS_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && 'revision' in parsed && typeof parsed.revision === 'string') return parsed.revision;
  } catch {
    // a malformed annotation means "not injected by a revision we can name"
  }
  return undefined;
}

interface OwnerReference {
  readonly kind: string;
  readonly name: string;
}

function controllerOf(meta: { ownerReferences?: { kind: string; name: string; controller?: boolean }[] } | undefined): OwnerReference | undefined {
  const owner = meta?.ownerReferences?.find((o) => o.controller === true);
  return owner === undefined ? undefined : { kind: intern(owner.kind), name: intern(owner.name) };
}

/**
 * A pod as cached: its state, with ownerJobFinished false. Only a Job's pod depends on another object (whether
 * its Job ended): its state is a copy made at observe time; every other pod's state is the cached object itself.
 */
export type PodFacts = PodState;

function containerStates(pod: V1Pod): ContainerState[] {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.map((s) => ({
    name: intern(s.name),
    restarts: s.restartCount,
    ...(s.state?.waiting?.reason === undefined ? {} : { waitingReason: intern(s.state.waiting.reason) }),
  }));
}

/** The first non-zero exit of a container, with its termination message (istioctl's last output lines). */
function failureOf(pod: V1Pod): string | undefined {
  const terminated = (pod.status?.containerStatuses ?? []).map((s) => s.state?.terminated).find((t) => t !== undefined && t.exitCode !== 0);
  if (terminated === undefined) return undefined;
  const detail = terminated.message?.trim();
  return detail !== undefined && detail !== '' ? `exit code ${terminated.exitCode}: ${detail}` : undefined;
}

function toIso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value instanceof Date ? value.toISOString() : value;
}

/** The phases a pod reports, as this module's own strings (one copy, not one per pod). */
const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;

export function toPodFacts(pod: V1Pod): PodFacts {
  const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === ISTIO_PROXY_CONTAINER);
  const phase = pod.status?.phase;
  const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const failure = failureOf(pod);
  return {
    namespace: intern(pod.metadata?.namespace ?? ''),
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    phase: POD_PHASES.find((known) => known === phase) ?? 'Unknown',
    labels: internValues(pod.metadata?.labels),
    injectedRevision: internOptional(injectedRevision(pod.metadata?.annotations)),
    proxyImage: internOptional(proxy?.image),
    hostNetwork: pod.spec?.hostNetwork === true,
    owner: controllerOf(pod.metadata),
    terminating: pod.metadata?.deletionTimestamp !== undefined,
    ready: ready?.status === 'True',
    readySince: toIso(ready?.lastTransitionTime),
    containers: containerStates(pod),
    ownerJobFinished: false,
    ...(failure === undefined ? {} : { failure }),
  };
}

export function jobFinished(job: JobFacts | undefined): boolean {
  return job !== undefined && job.outcome !== 'Running';
}

export function toPodState(pod: PodFacts, jobs: (namespace: string, name: string) => JobFacts | undefined): PodState {
  return { ...pod, ownerJobFinished: pod.owner?.kind === 'Job' && jobFinished(jobs(pod.namespace, pod.owner.name)) };
}

/** A ReplicaSet as cached: only who controls it. */
export interface ReplicaSetFacts {
  readonly namespace: string;
  readonly name: string;
  readonly owner: OwnerReference | undefined;
}

export function toReplicaSetFacts(rs: V1ReplicaSet): ReplicaSetFacts {
  return { namespace: intern(rs.metadata?.namespace ?? ''), name: intern(rs.metadata?.name ?? ''), owner: controllerOf(rs.metadata) };
}

/**
 * Which workload (kind/namespace/name) owns a pod: its controller when that is a workload kind, or the
 * controller of its ReplicaSet (Deployments own pods through ReplicaSets).
 */
export function workloadOwnerKey(
  pod: Pick<PodFacts, 'namespace' | 'owner'>,
  replicaSet: (namespace: string, name: string) => ReplicaSetFacts | undefined,
  isWorkloadKind: (kind: string) => boolean,
): string | undefined {
  const owner = pod.owner;
  if (owner === undefined) return undefined;
  if (isWorkloadKind(owner.kind)) return `${owner.kind}/${pod.namespace}/${owner.name}`;
  if (owner.kind === 'ReplicaSet') {
    const parent = replicaSet(pod.namespace, owner.name)?.owner;
    if (parent !== undefined && isWorkloadKind(parent.kind)) return `${parent.kind}/${pod.namespace}/${parent.name}`;
  }
  return undefined;
}

export function toNamespaceState(ns: V1Namespace): NamespaceState {
  return { name: ns.metadata?.name ?? '', labels: ns.metadata?.labels ?? {} };
}

export function toServiceState(service: V1Service): ServiceState {
  return { namespace: service.metadata?.namespace ?? '', name: service.metadata?.name ?? '', labels: service.metadata?.labels ?? {}, annotations: service.metadata?.annotations ?? {} };
}

/** An istiod Deployment as a revision: `istio.io/rev` label, else the name (`istiod` is revision "default"). */
export function toRevisionState(deployment: WorkloadFacts): RevisionState | undefined {
  const fromName = deployment.name === 'istiod' ? 'default' : deployment.name.replace(/^istiod-/, '');
  const revision = deployment.labels[ISTIO_REV_LABEL] ?? fromName;
  if (revision === '') return undefined;
  const image = deployment.templateContainers.find((c) => c.name === 'discovery')?.image ?? deployment.templateContainers[0]?.image;
  const version = image === undefined ? undefined : versionFromImage(image);
  const r = deployment.rollout;
  return {
    revision,
    deploymentName: deployment.name,
    version: version === undefined ? undefined : formatVersion(version),
    ready: r.ready >= 1 && r.observedGeneration >= r.generation,
    labels: deployment.labels,
    annotations: deployment.annotations,
  };
}

function selectorOf(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): LabelSelector | undefined {
  if (selector === undefined) return undefined;
  const out: LabelSelector = {};
  if (selector.matchLabels !== undefined) out.matchLabels = selector.matchLabels;
  if (selector.matchExpressions !== undefined) {
    out.matchExpressions = selector.matchExpressions.map((e) => ({
      key: e.key,
      operator: e.operator === 'In' || e.operator === 'NotIn' || e.operator === 'Exists' ? e.operator : 'DoesNotExist',
      ...(e.values === undefined ? {} : { values: e.values }),
    }));
  }
  return out;
}

export function toWebhookConfiguration(config: V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration): WebhookConfiguration {
  return {
    name: config.metadata?.name ?? '',
    labels: config.metadata?.labels ?? {},
    annotations: config.metadata?.annotations ?? {},
    webhooks: (config.webhooks ?? []).map((w): WebhookEntry => {
      const service = w.clientConfig.service;
      const namespaceSelector = selectorOf(w.namespaceSelector);
      const objectSelector = selectorOf(w.objectSelector);
      const reinvocationPolicy = 'reinvocationPolicy' in w && typeof w.reinvocationPolicy === 'string' ? w.reinvocationPolicy : undefined;
      return {
        name: w.name,
        clientConfig: {
          ...(service === undefined
            ? {}
            : { service: { name: service.name, namespace: service.namespace, ...(service.path === undefined ? {} : { path: service.path }), ...(service.port === undefined ? {} : { port: service.port }) } }),
          ...(w.clientConfig.url === undefined ? {} : { url: w.clientConfig.url }),
          ...(w.clientConfig.caBundle === undefined ? {} : { caBundle: w.clientConfig.caBundle }),
        },
        ...(reinvocationPolicy === undefined ? {} : { reinvocationPolicy }),
        ...(w.failurePolicy === undefined ? {} : { failurePolicy: w.failurePolicy }),
        ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
        ...(objectSelector === undefined ? {} : { objectSelector }),
      };
    }),
  };
}

/** A Job as cached: identity, labels and how it ended. */
export interface JobFacts {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly outcome: JobOutcome;
  /** The Job's failure condition (reason: message), when it failed. */
  readonly conditionMessage: string | undefined;
  readonly completedAt: string | undefined;
}

export function toJobFacts(job: V1Job): JobFacts {
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
  const base = { namespace: job.metadata?.namespace ?? '', name: job.metadata?.name ?? '', labels: job.metadata?.labels ?? {} };
  if (complete !== undefined) return { ...base, outcome: 'Succeeded', conditionMessage: undefined, completedAt: toIso(job.status?.completionTime ?? complete.lastTransitionTime) };
  if (failed !== undefined) return { ...base, outcome: 'Failed', conditionMessage: `${failed.reason ?? 'Failed'}: ${failed.message ?? ''}`, completedAt: toIso(failed.lastTransitionTime) };
  return { ...base, outcome: 'Running', conditionMessage: undefined, completedAt: undefined };
}

/** A Job's outcome, preferring the failed pod's termination message (istioctl's last output) to the Job's own. */
export function jobOutcome(job: JobFacts, pods: readonly PodFacts[]): { outcome: JobOutcome; message: string | undefined; completedAt: string | undefined } {
  if (job.outcome !== 'Failed') return { outcome: job.outcome, message: undefined, completedAt: job.completedAt };
  const podFailure = pods.map((p) => p.failure).find((f) => f !== undefined);
  return { outcome: 'Failed', message: podFailure ?? job.conditionMessage, completedAt: job.completedAt };
}

/** Only what the planner reads from an IstioUpgrade's metadata: managedFields and the rest are dropped. */
export function trimUpgrade<T extends { metadata?: { managedFields?: unknown } }>(raw: T): T {
  if (raw.metadata?.managedFields === undefined) return raw;
  const metadata = { ...raw.metadata };
  delete metadata.managedFields;
  return { ...raw, metadata };
}

/** The installer's ClusterRoleBinding as cached: the Job it was last granted for. */
export interface InstallerBindingFacts {
  readonly name: string;
  readonly grantedFor: string | undefined;
}

export function toInstallerBindingFacts(binding: V1ClusterRoleBinding): InstallerBindingFacts {
  return { name: binding.metadata?.name ?? '', grantedFor: binding.metadata?.annotations?.[GRANTED_FOR_ANNOTATION] };
}
