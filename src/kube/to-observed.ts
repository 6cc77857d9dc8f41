// Converts Kubernetes objects (as the informers cache them) into the planner's ObservedState shapes.
import type {
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1MutatingWebhookConfiguration,
  V1Pod,
  V1ReplicaSet,
  V1StatefulSet,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { ISTIO_PROXY_CONTAINER, ISTIO_REV_LABEL, SIDECAR_STATUS_ANNOTATION } from '../api/constants.ts';
import type { LabelSelector } from '../api/schema.ts';
import type {
  JobOutcome,
  PodState,
  RevisionState,
  RolloutState,
  WebhookConfiguration,
  WebhookEntry,
  WorkloadKind,
  WorkloadState,
} from '../core/observed.ts';
import { versionFromImage, formatVersion } from '../core/version.ts';

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

function controllerOf(meta: { ownerReferences?: { kind: string; name: string; controller?: boolean }[] } | undefined): { kind: string; name: string } | undefined {
  const owner = meta?.ownerReferences?.find((o) => o.controller === true);
  return owner === undefined ? undefined : { kind: owner.kind, name: owner.name };
}

export function jobFinished(job: V1Job | undefined): boolean {
  return (job?.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export function toPodState(pod: V1Pod, jobsByKey: ReadonlyMap<string, V1Job>): PodState {
  const namespace = pod.metadata?.namespace ?? '';
  const owner = controllerOf(pod.metadata);
  const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === ISTIO_PROXY_CONTAINER);
  const phase = pod.status?.phase;
  return {
    namespace,
    name: pod.metadata?.name ?? '',
    phase: phase === 'Pending' || phase === 'Running' || phase === 'Succeeded' || phase === 'Failed' ? phase : 'Unknown',
    labels: pod.metadata?.labels ?? {},
    injectedRevision: injectedRevision(pod.metadata?.annotations),
    proxyImage: proxy?.image,
    owner,
    ownerJobFinished: owner?.kind === 'Job' && jobFinished(jobsByKey.get(`${namespace}/${owner.name}`)),
    terminating: pod.metadata?.deletionTimestamp !== undefined,
  };
}

function isDaemonSet(kind: WorkloadKind, w: V1Deployment | V1StatefulSet | V1DaemonSet): w is V1DaemonSet {
  // Objects from a list carry no kind, so the caller's kind decides; an explicit other kind overrides it.
  return kind === 'DaemonSet' && (w.kind === undefined || w.kind === 'DaemonSet');
}

function daemonSetRollout(w: V1DaemonSet): RolloutState {
  const s = w.status;
  return {
    generation: w.metadata?.generation ?? 0,
    observedGeneration: s?.observedGeneration ?? 0,
    desired: s?.desiredNumberScheduled ?? 0,
    updated: s?.updatedNumberScheduled ?? 0,
    ready: s?.numberAvailable ?? 0,
    total: s?.currentNumberScheduled ?? 0,
  };
}

function replicaRollout(w: V1Deployment | V1StatefulSet): RolloutState {
  const s = w.status;
  return {
    generation: w.metadata?.generation ?? 0,
    observedGeneration: s?.observedGeneration ?? 0,
    desired: w.spec?.replicas ?? 1,
    updated: s?.updatedReplicas ?? 0,
    ready: s?.availableReplicas ?? s?.readyReplicas ?? 0,
    total: s?.replicas ?? 0,
  };
}

function rolloutOf(kind: WorkloadKind, w: V1Deployment | V1StatefulSet | V1DaemonSet): RolloutState {
  return isDaemonSet(kind, w) ? daemonSetRollout(w) : replicaRollout(w);
}

export function toWorkloadState(kind: WorkloadKind, w: V1Deployment | V1StatefulSet | V1DaemonSet, pods: readonly PodState[]): WorkloadState {
  return {
    kind,
    namespace: w.metadata?.namespace ?? '',
    name: w.metadata?.name ?? '',
    templateLabels: w.spec?.template.metadata?.labels ?? {},
    templateAnnotations: w.spec?.template.metadata?.annotations ?? {},
    rollout: rolloutOf(kind, w),
    pods,
  };
}

/** Which workload (kind/namespace/name) owns a pod, following ReplicaSets up to their Deployment. */
export function workloadOwnerKey(pod: V1Pod, replicaSets: ReadonlyMap<string, V1ReplicaSet>): string | undefined {
  const namespace = pod.metadata?.namespace ?? '';
  const owner = controllerOf(pod.metadata);
  if (owner === undefined) return undefined;
  if (owner.kind === 'StatefulSet' || owner.kind === 'DaemonSet') return `${owner.kind}/${namespace}/${owner.name}`;
  if (owner.kind === 'ReplicaSet') {
    const deployment = controllerOf(replicaSets.get(`${namespace}/${owner.name}`)?.metadata);
    if (deployment?.kind === 'Deployment') return `Deployment/${namespace}/${deployment.name}`;
  }
  return undefined;
}

export function toRevisionState(deployment: V1Deployment): RevisionState | undefined {
  const revision = deployment.metadata?.labels?.[ISTIO_REV_LABEL] ?? deployment.metadata?.name?.replace(/^istiod-?/, '');
  if (revision === undefined || revision === '') return undefined;
  const image = deployment.spec?.template.spec?.containers.find((c) => c.name === 'discovery')?.image ?? deployment.spec?.template.spec?.containers[0]?.image;
  const version = image === undefined ? undefined : versionFromImage(image);
  const rollout = rolloutOf('Deployment', deployment);
  return {
    revision,
    version: version === undefined ? undefined : formatVersion(version),
    ready: rollout.ready >= 1 && rollout.observedGeneration >= rollout.generation,
    serviceExists: false,
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
      const reinvocationPolicy: string | undefined = (w as { reinvocationPolicy?: string }).reinvocationPolicy;
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

/** A Job's outcome, with the failed pod's termination message (istioctl's last output lines) when there is one. */
export function jobOutcome(job: V1Job, pods: readonly V1Pod[]): { outcome: JobOutcome; message: string | undefined; completedAt: string | undefined } {
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
  if (complete !== undefined) {
    return { outcome: 'Succeeded', message: undefined, completedAt: toIso(job.status?.completionTime ?? complete.lastTransitionTime) };
  }
  if (failed !== undefined) {
    const terminated = pods
      .flatMap((p) => p.status?.containerStatuses ?? [])
      .map((s) => s.state?.terminated)
      .find((t) => t !== undefined && t.exitCode !== 0);
    const detail = terminated?.message?.trim();
    const message = detail !== undefined && detail !== '' ? `exit code ${terminated?.exitCode ?? '?'}: ${detail}` : `${failed.reason ?? 'Failed'}: ${failed.message ?? ''}`;
    return { outcome: 'Failed', message, completedAt: toIso(failed.lastTransitionTime) };
  }
  return { outcome: 'Running', message: undefined, completedAt: undefined };
}

function toIso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value instanceof Date ? value.toISOString() : value;
}
