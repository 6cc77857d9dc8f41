// The sample mesh of the end-to-end harness (test/cluster and npm run demo) and the Istio control planes under it.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE, ISTIO_REV_LABEL, ISTIO_TAG_LABEL, SIDECAR_STATUS_ANNOTATION } from '../../src/api/constants.ts';
import { injectedRevision } from '../../src/kube/to-observed.ts';
import { deleteNamespaces, removeInstalledGateways, removeTags, shapeNamespaces, uninstallNonRevisioned } from './control-plane.ts';
import { exists, istioctl, kubectl, waitFor, type Kube } from './kube.ts';
import { deployment } from './workloads.ts';

export const APP_NAMESPACES = ['foo', 'bar', 'baz', 'qux'] as const;
export const GATEWAY = { namespace: 'istio-ingress', name: 'istio-ingressgateway' } as const;
export const MESH_NAMESPACES = [...APP_NAMESPACES, GATEWAY.namespace] as const;
/** Every workload the operator restarts in the sample mesh: kind/namespace/name. */
export const SAMPLE_WORKLOADS = [
  `Deployment/${GATEWAY.namespace}/${GATEWAY.name}`,
  ...APP_NAMESPACES.flatMap((ns) => [`Deployment/${ns}/${ns}-web`, `Deployment/${ns}/${ns}-api`]),
  'StatefulSet/baz/baz-db',
  'DaemonSet/qux/qux-agent',
];

const tolerateAll = [{ operator: 'Exists' }];

/** The objects of the sample mesh, as one kubectl-apply-able list. */
export function sampleMeshObjects(): object[] {
  return [
    ...MESH_NAMESPACES.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [ISTIO_REV_LABEL]: 'default' } } })),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: GATEWAY.name, namespace: GATEWAY.namespace },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: GATEWAY.name, istio: 'ingressgateway' } },
        template: {
          metadata: {
            labels: { app: GATEWAY.name, istio: 'ingressgateway', 'sidecar.istio.io/inject': 'true' },
            annotations: { 'inject.istio.io/templates': 'gateway' },
          },
          spec: { tolerations: tolerateAll, containers: [{ name: 'istio-proxy', image: 'auto' }] },
        },
      },
    },
    ...APP_NAMESPACES.flatMap((ns) => [deployment(ns, `${ns}-web`), deployment(ns, `${ns}-api`, { replicas: 2 })]),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'baz-db', namespace: 'baz' }, spec: { clusterIP: 'None', selector: { app: 'baz-db' }, ports: [{ port: 5432 }] } },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'baz-db', namespace: 'baz' },
      spec: {
        serviceName: 'baz-db',
        replicas: 1,
        selector: { matchLabels: { app: 'baz-db' } },
        template: { metadata: { labels: { app: 'baz-db' } }, spec: { tolerations: tolerateAll, containers: [{ name: 'db', image: 'registry.example/db:1' }] } },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'qux-agent', namespace: 'qux' },
      spec: {
        selector: { matchLabels: { app: 'qux-agent' } },
        template: { metadata: { labels: { app: 'qux-agent' } }, spec: { tolerations: tolerateAll, containers: [{ name: 'agent', image: 'registry.example/agent:1' }] } },
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: 'foo' },
      spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', tolerations: tolerateAll, containers: [{ name: 'migrate', image: 'registry.example/migrate:1' }] } } },
    },
  ];
}

export async function applyObjects(kube: Kube, objects: readonly object[]): Promise<void> {
  await kubectl(kube, ['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

export async function revisionInstalled(kube: Kube, revision: string): Promise<boolean> {
  return exists(() => kube.apps.readNamespacedDeployment({ name: `istiod-${revision}`, namespace: ISTIO_NAMESPACE }));
}

export async function tagRevision(kube: Kube, tag = 'default'): Promise<string | undefined> {
  const list = await kube.admission.listMutatingWebhookConfiguration({ labelSelector: `${ISTIO_TAG_LABEL}=${tag}` });
  return list.items[0]?.metadata?.labels?.[ISTIO_REV_LABEL];
}

/** Installs a revision with the real istioctl (inside the netns, as admin), waiting for its istiod. */
export async function installRevision(kube: Kube, version: string, revision: string): Promise<void> {
  if (!(await revisionInstalled(kube, revision))) {
    await istioctl(kube, version, ['install', '--set', `revision=${revision}`, '--set', 'profile=minimal', '-y']);
  }
  await waitFor(`istiod-${revision} Ready`, async () => {
    const d = await kube.apps.readNamespacedDeployment({ name: `istiod-${revision}`, namespace: ISTIO_NAMESPACE });
    return (d.status?.readyReplicas ?? 0) >= 1;
  });
}

export async function uninstallRevision(kube: Kube, version: string, revision: string): Promise<void> {
  if (await revisionInstalled(kube, revision)) await istioctl(kube, version, ['uninstall', '--revision', revision, '-y']);
  await waitFor(`istiod-${revision} gone`, async () => !(await revisionInstalled(kube, revision)));
}

export async function setTag(kube: Kube, version: string, revision: string, tag = 'default'): Promise<void> {
  await istioctl(kube, version, ['tag', 'set', tag, '--revision', revision, '--overwrite']);
}

export async function deleteSampleMesh(kube: Kube): Promise<void> {
  await deleteNamespaces(kube, MESH_NAMESPACES);
}

export function podRevision(pod: V1Pod): string | undefined {
  return injectedRevision(pod.metadata?.annotations);
}

export function proxyImage(pod: V1Pod): string | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === 'istio-proxy')?.image;
}

/** Live (non-terminating, not finished) pods of the mesh namespaces that belong to workloads. */
export async function meshPods(kube: Kube): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  for (const namespace of MESH_NAMESPACES) {
    const list = await kube.core.listNamespacedPod({ namespace });
    pods.push(...list.items.filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'));
  }
  return pods;
}

/** Waits until every workload pod of the mesh is Running, Ready and injected by `revision`. */
export async function waitForMeshOn(kube: Kube, revision: string, timeoutMs = 180_000): Promise<V1Pod[]> {
  return waitFor(`every mesh pod on ${revision}`, async () => {
    const pods = await meshPods(kube);
    const expected = 1 + APP_NAMESPACES.length * 3 + 1 + kube.info.nodeNames.length;
    if (pods.length < expected) return undefined;
    const ready = pods.every((p) => p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready && pods.every((p) => podRevision(p) === revision) ? pods : undefined;
  }, timeoutMs, 1000);
}

/** The mesh on the old revision: only it installed, the tag on it, the sample workloads fresh. */
export async function resetMesh(kube: Kube): Promise<void> {
  const { istioOld, istioOldRevision, istioNew, istioNewRevision } = kube.info.versions;
  await deleteNamespaces(kube, [...MESH_NAMESPACES, ...(await shapeNamespaces(kube))]);
  await kubectl(kube, ['create', 'namespace', ISTIO_NAMESPACE]).catch(() => undefined);
  // A scenario may have left another control-plane shape: extra tags, a non-revisioned istiod.
  await removeTags(kube, ['default']);
  await removeInstalledGateways(kube, ISTIO_NAMESPACE);
  await installRevision(kube, istioOld, istioOldRevision);
  await uninstallNonRevisioned(kube, istioOld);
  await setTag(kube, istioOld, istioOldRevision);
  if (await revisionInstalled(kube, istioNewRevision)) await uninstallRevision(kube, istioNew, istioNewRevision);
  await applyObjects(kube, sampleMeshObjects());
  await waitForMeshOn(kube, istioOldRevision);
}

export function deploymentStamp(d: V1Deployment): string | undefined {
  return d.spec?.template.metadata?.annotations?.['istioupgrade.dev/restarted-for'];
}

export { SIDECAR_STATUS_ANNOTATION };
