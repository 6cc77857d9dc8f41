// Builders for IstioUpgrades and observed meshes used by the planner's table-driven tests.
import { DEFAULT_INSTALLER_IMAGES } from '../../src/core/installer-images.ts';
import { IstioUpgradeSchema, type IstioUpgrade, type IstioUpgradeSpecInput, type IstioUpgradeStatus } from '../../src/api/schema.ts';
import { ISTIO_REV_LABEL, RESTARTED_AT_ANNOTATION, RESTARTED_FOR_ANNOTATION } from '../../src/api/constants.ts';
import { asObserved, buildTagWebhook, selectorsFor } from '../../src/core/tag-webhook.ts';
import type { ScopeContext } from '../../src/core/scope.ts';
import type {
  NamespaceState,
  ObservedState,
  PodState,
  RevisionState,
  UpdateMode,
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

/** A revision's own injector as the istio-discovery chart renders it ("default": the non-revisioned one). */
export function injectorWebhook(revision: string, options: { autoInject?: boolean } = {}): WebhookConfiguration {
  const nonRevisioned = revision === 'default';
  const selectors = selectorsFor(revision, options.autoInject ?? false);
  return {
    name: nonRevisioned ? 'istio-sidecar-injector' : `istio-sidecar-injector-${revision}`,
    labels: {
      app: 'sidecar-injector',
      [ISTIO_REV_LABEL]: revision,
      'install.operator.istio.io/owning-resource': 'unknown',
      'install.operator.istio.io/owning-resource-namespace': 'istio-system',
      'operator.istio.io/component': 'Pilot',
      release: 'istio',
      'app.kubernetes.io/name': 'istiod',
      'app.kubernetes.io/part-of': 'istio',
    },
    annotations: {},
    webhooks: (nonRevisioned ? selectors : selectors.slice(0, 2)).map(({ prefix, namespaceSelector, objectSelector }) => ({
      name: `${prefix}sidecar-injector.istio.io`,
      clientConfig: { service: { name: nonRevisioned ? 'istiod' : `istiod-${revision}`, namespace: 'istio-system', path: '/inject', port: 443 }, caBundle: CA },
      reinvocationPolicy: 'Never',
      failurePolicy: 'Fail',
      namespaceSelector,
      objectSelector,
    })),
  };
}

/** A tag as `istioctl tag set <tag> --revision <revision>` writes it. */
export function tagWebhook(tag: string, revision: string): WebhookConfiguration {
  const built = buildTagWebhook({ tag, revision, istioNamespace: 'istio-system', canonical: injectorWebhook(revision), existingValidator: undefined, autoInject: false });
  if (!built.ok) throw new Error(built.reason);
  return asObserved(built.webhook.mutating);
}

/** The labels and annotations Helm leaves on an istiod Deployment of `release` (chart istiod-<version>). */
export function helmMarks(release: string, version: string, chart = 'istiod'): Pick<RevisionState, 'labels' | 'annotations'> & { labels: Record<string, string> } {
  return {
    labels: { app: chart, 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': `${chart}-${version}` },
    annotations: { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': 'istio-system' },
  };
}

/** An istiod revision installed as Helm release `release`. */
export function helmRevisionState(revision: string, version: string, release: string): RevisionState {
  const plain = revisionState(revision, version);
  const marks = helmMarks(release, version);
  return { ...plain, labels: { ...plain.labels, ...marks.labels, app: 'istiod' }, annotations: marks.annotations };
}

export function revisionState(revision: string, version: string | undefined, ready = true, extra: Partial<RevisionState> = {}): RevisionState {
  const deploymentName = revision === 'default' ? 'istiod' : `istiod-${revision}`;
  return { revision, deploymentName, version, ready, labels: { app: 'istiod', [ISTIO_REV_LABEL]: revision, 'operator.istio.io/component': 'Pilot', 'install.operator.istio.io/owning-resource-namespace': 'istio-system' }, annotations: {}, ...extra };
}

export function pod(namespace: string, name: string, revision: string | undefined, extra: Partial<PodState> = {}): PodState {
  return {
    namespace,
    name,
    uid: `uid-${namespace}-${name}`,
    phase: 'Running',
    labels: {},
    injectedRevision: revision,
    proxyImage: revision === undefined ? undefined : `docker.io/istio/proxyv2:${revision === OLD.revision ? OLD.version : NEW.version}`,
    hostNetwork: false,
    owner: undefined,
    ownerJobFinished: false,
    terminating: false,
    ready: true,
    readySince: undefined,
    containers: [],
    ...extra,
  };
}

export interface WorkloadOptions {
  readonly kind?: WorkloadKind;
  readonly replicas?: number;
  readonly labels?: Record<string, string>;
  readonly templateLabels?: Record<string, string>;
  readonly templateAnnotations?: Record<string, string>;
  readonly stamp?: string;
  readonly restartedAt?: string;
  readonly update?: UpdateMode;
  readonly hostNetwork?: boolean;
  readonly proxyImage?: string;
}

export function workload(namespace: string, name: string, revision: string | undefined, options: WorkloadOptions = {}): WorkloadState {
  const replicas = options.replicas ?? 1;
  const annotations: Record<string, string> = { ...options.templateAnnotations };
  if (options.stamp !== undefined) annotations[RESTARTED_FOR_ANNOTATION] = options.stamp;
  if (options.restartedAt !== undefined) annotations[RESTARTED_AT_ANNOTATION] = options.restartedAt;
  return {
    kind: options.kind ?? 'Deployment',
    namespace,
    name,
    labels: options.labels ?? {},
    annotations: {},
    templateLabels: { app: name, ...options.templateLabels },
    templateAnnotations: annotations,
    templateContainers: [{ name: 'app', image: 'registry.example/app:1' }, ...(options.proxyImage === undefined ? [] : [{ name: 'istio-proxy', image: options.proxyImage }])],
    hostNetwork: options.hostNetwork ?? false,
    update: options.update ?? 'rolling',
    rollout: { generation: 1, observedGeneration: 1, desired: replicas, updated: replicas, ready: replicas, total: replicas },
    pods: Array.from({ length: replicas }, (_, i) => pod(namespace, `${name}-${i}`, revision, { hostNetwork: options.hostNetwork ?? false })),
  };
}

export function namespace(name: string, labels: Record<string, string> = { [ISTIO_REV_LABEL]: 'default' }): NamespaceState {
  return { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } };
}

/** The sample mesh of the end-to-end issue: foo, bar, baz, qux and istio-ingress on tag "default". */
export function sampleMesh(overrides: Partial<ObservedState> = {}): ObservedState {
  const r = OLD.revision;
  return {
    kubernetesVersion: 'v1.34.10',
    istioNamespace: 'istio-system',
    allowedInstallerImages: DEFAULT_INSTALLER_IMAGES,
    otherUpgrades: [],
    revisions: [revisionState(r, OLD.version)],
    mutatingWebhooks: [injectorWebhook(r), tagWebhook('default', r)],
    validatingWebhooks: [],
    services: [],
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
    installerAccess: undefined,
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

/**
 * A scope context for the workloads of namespace "shop" (on the default tag), moving tag "default": the injector
 * of the old revision and tags "default" and "canary" on it. The memo tests change it one input at a time.
 */
export function shopScopeContext(): ScopeContext {
  return {
    webhooks: [injectorWebhook(OLD.revision), tagWebhook('default', OLD.revision), tagWebhook('canary', OLD.revision)],
    namespaces: new Map([['shop', { [ISTIO_REV_LABEL]: 'default' }]]),
    tags: ['default'],
    fromRevision: OLD.revision,
    excludedNamespaces: new Set(),
    adoptPinnedNamespaces: false,
  };
}
