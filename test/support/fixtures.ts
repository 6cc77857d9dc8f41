// Builders for IstioUpgrades and observed meshes used by the planner's table-driven tests.
import { IstioUpgradeSchema, type IstioUpgrade, type IstioUpgradeSpecInput, type IstioUpgradeStatus } from '../../src/api/schema.ts';
import {
  ISTIO_REV_LABEL,
  ISTIO_TAG_LABEL,
  RESTARTED_AT_ANNOTATION,
  RESTARTED_FOR_ANNOTATION,
} from '../../src/api/constants.ts';
import type {
  NamespaceState,
  ObservedState,
  PodState,
  RevisionState,
  WebhookConfiguration,
  WorkloadKind,
  WorkloadState,
} from '../../src/core/observed.ts';

export const UID = '0f8fad5b-d9cb-469f-a165-70867728950e';
export const T0 = new Date('2026-11-22T10:00:00.000Z');
export const OLD = { version: '1.30.4', revision: '1-30-4' } as const;
export const NEW = { version: '1.31.0', revision: '1-31-0' } as const;
export const CA = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t';

export interface UpgradeOptions {
  readonly name?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly annotations?: Record<string, string>;
  readonly status?: IstioUpgradeStatus;
  readonly creationTimestamp?: string;
}

export function makeUpgrade(spec: Partial<IstioUpgradeSpecInput> = {}, options: UpgradeOptions = {}): IstioUpgrade {
  return IstioUpgradeSchema.parse({
    apiVersion: 'istioupgrade.dev/v1alpha1',
    kind: 'IstioUpgrade',
    metadata: {
      name: options.name ?? 'to-1-31-0',
      uid: options.uid ?? UID,
      generation: options.generation ?? 1,
      creationTimestamp: options.creationTimestamp ?? T0.toISOString(),
      annotations: options.annotations ?? {},
    },
    spec: { version: NEW.version, soak: { duration: '5m' }, uninstall: { gracePeriod: '10m' }, ...spec },
    status: options.status ?? {},
  });
}

export function injectorWebhook(revision: string): WebhookConfiguration {
  return {
    name: `istio-sidecar-injector-${revision}`,
    labels: {
      app: 'sidecar-injector',
      [ISTIO_REV_LABEL]: revision,
      'install.operator.istio.io/owning-resource': 'unknown',
      'operator.istio.io/component': 'Pilot',
      release: 'istiod',
      'app.kubernetes.io/name': 'istiod',
      'app.kubernetes.io/part-of': 'istio',
    },
    annotations: {},
    webhooks: ['rev.namespace', 'rev.object'].map((prefix) => ({
      name: `${prefix}.sidecar-injector.istio.io`,
      clientConfig: { service: { name: `istiod-${revision}`, namespace: 'istio-system', path: '/inject', port: 443 }, caBundle: CA },
      reinvocationPolicy: 'Never',
      failurePolicy: 'Fail',
    })),
  };
}

export function tagWebhook(tag: string, revision: string): WebhookConfiguration {
  return {
    name: `istio-revision-tag-${tag}`,
    labels: { [ISTIO_TAG_LABEL]: tag, [ISTIO_REV_LABEL]: revision, app: 'sidecar-injector' },
    annotations: {},
    webhooks: ['rev.namespace', 'rev.object', 'namespace', 'object'].map((prefix) => ({
      name: `${prefix}.sidecar-injector.istio.io`,
      clientConfig: { service: { name: `istiod-${revision}`, namespace: 'istio-system', path: '/inject', port: 443 }, caBundle: CA },
    })),
  };
}

export function revisionState(revision: string, version: string | undefined, ready = true): RevisionState {
  return { revision, version, ready, serviceExists: true };
}

export function pod(namespace: string, name: string, revision: string | undefined, extra: Partial<PodState> = {}): PodState {
  return {
    namespace,
    name,
    phase: 'Running',
    labels: {},
    injectedRevision: revision,
    proxyImage: revision === undefined ? undefined : `docker.io/istio/proxyv2:${revision === OLD.revision ? OLD.version : NEW.version}`,
    owner: undefined,
    ownerJobFinished: false,
    terminating: false,
    ...extra,
  };
}

export interface WorkloadOptions {
  readonly kind?: WorkloadKind;
  readonly replicas?: number;
  readonly templateLabels?: Record<string, string>;
  readonly stamp?: string;
  readonly restartedAt?: string;
}

export function workload(namespace: string, name: string, revision: string | undefined, options: WorkloadOptions = {}): WorkloadState {
  const replicas = options.replicas ?? 1;
  const annotations: Record<string, string> = {};
  if (options.stamp !== undefined) annotations[RESTARTED_FOR_ANNOTATION] = options.stamp;
  if (options.restartedAt !== undefined) annotations[RESTARTED_AT_ANNOTATION] = options.restartedAt;
  return {
    kind: options.kind ?? 'Deployment',
    namespace,
    name,
    templateLabels: { app: name, ...options.templateLabels },
    templateAnnotations: annotations,
    rollout: { generation: 1, observedGeneration: 1, desired: replicas, updated: replicas, ready: replicas, total: replicas },
    pods: Array.from({ length: replicas }, (_, i) => pod(namespace, `${name}-${i}`, revision)),
  };
}

export function namespace(name: string, labels: Record<string, string> = { [ISTIO_REV_LABEL]: 'default' }): NamespaceState {
  return { name, labels };
}

/** The sample mesh of the end-to-end issue: foo, bar, baz, qux and istio-ingress on tag "default". */
export function sampleMesh(overrides: Partial<ObservedState> = {}): ObservedState {
  const r = OLD.revision;
  return {
    kubernetesVersion: 'v1.34.10',
    istioNamespace: 'istio-system',
    otherUpgrades: [],
    revisions: [revisionState(r, OLD.version)],
    mutatingWebhooks: [injectorWebhook(r), tagWebhook('default', r)],
    validatingWebhooks: [],
    namespaces: [
      namespace('istio-system', {}),
      namespace('default', {}),
      ...['foo', 'bar', 'baz', 'qux', 'istio-ingress'].map((n) => namespace(n)),
    ],
    workloads: [
      workload('istio-ingress', 'istio-ingressgateway', r),
      ...['foo', 'bar', 'baz', 'qux'].flatMap((n) => [workload(n, `${n}-a`, r), workload(n, `${n}-b`, r, { replicas: 2 })]),
      workload('baz', 'baz-db', r, { kind: 'StatefulSet' }),
      workload('qux', 'qux-agent', r, { kind: 'DaemonSet', replicas: 3 }),
      workload('default', 'unmeshed', undefined),
    ],
    otherPods: [pod('foo', 'migrate-x1', r, { phase: 'Succeeded', owner: { kind: 'Job', name: 'migrate' }, ownerJobFinished: true })],
    jobs: [],
    metrics: undefined,
    ...overrides,
  };
}

export const E2E_SPEC: Partial<IstioUpgradeSpecInput> = {
  gateways: [{ namespace: 'istio-ingress', name: 'istio-ingressgateway' }],
  rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 2 }] },
};

export function minutes(n: number): number {
  return n * 60_000;
}

export function at(ms: number): Date {
  return new Date(T0.getTime() + ms);
}
