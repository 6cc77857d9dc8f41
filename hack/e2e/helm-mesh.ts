// The sample mesh installed with Helm, from the hermetic cluster's chart repository: releases istio-base,
// istiod-<old> (revision <old>, revisionTags [default]) and the gateway release istio-ingress, plus the sample
// workloads. For helm-mode scenarios (test/cluster/99-helm-mode.test.ts).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE, ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { deleteNamespaces, removeInstalledGateways, removeTags, shapeNamespaces, uninstallNonRevisioned } from './control-plane.ts';
import { kubectl, waitFor, type Kube } from './kube.ts';
import { APP_NAMESPACES, GATEWAY, MESH_NAMESPACES, applyObjects, revisionInstalled, sampleMeshObjects, uninstallRevision, waitForMeshOn } from './mesh.ts';

const run = promisify(execFile);

export const BASE_RELEASE = 'istio-base';
/** The gateway chart names its Deployment after the release. */
export const GATEWAY_RELEASE = { namespace: GATEWAY.namespace, release: 'istio-ingress' } as const;
export const istiodRelease = (revision: string): string => `istiod-${revision}`;

/** Every workload of the Helm sample mesh: kind/namespace/name. */
export const HELM_SAMPLE_WORKLOADS = [
  `Deployment/${GATEWAY_RELEASE.namespace}/${GATEWAY_RELEASE.release}`,
  ...APP_NAMESPACES.flatMap((ns) => [`Deployment/${ns}/${ns}-web`, `Deployment/${ns}/${ns}-api`]),
  'StatefulSet/baz/baz-db',
  'DaemonSet/qux/qux-agent',
];

export interface HelmRelease {
  readonly name: string;
  readonly namespace: string;
  readonly revision: string;
  readonly status: string;
  readonly chart: string;
  readonly app_version: string;
}

/** helm (the pinned build, on the cluster's PATH) as cluster admin, inside the netns. */
export async function helm(kube: Kube, args: readonly string[]): Promise<string> {
  const { stdout } = await run('helm', [...args, '--kubeconfig', kube.info.kubeconfigPath], { env: { ...process.env, ...kube.info.env }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** `helm list -A --all`: every release in every state (failed and pending ones included). */
export async function helmList(kube: Kube): Promise<HelmRelease[]> {
  return JSON.parse(await helm(kube, ['list', '--all-namespaces', '--all', '--output', 'json'])) as HelmRelease[];
}

export function describeReleases(releases: readonly HelmRelease[]): string {
  return releases.map((r) => `${r.namespace}/${r.name} rev ${r.revision} ${r.status} ${r.chart}`).sort().join('; ');
}

function chart(kube: Kube, name: string, version: string): string[] {
  return [name, '--repo', kube.info.chartRepoUrl, '--version', version];
}

/** Removes every Helm release of the sample and the istioctl-installed revisions, so neither shape is left. */
export async function removeHelmMesh(kube: Kube): Promise<void> {
  for (const release of await helmList(kube)) {
    if (release.name === BASE_RELEASE) continue; // its CRDs stay, as Helm keeps CRDs
    await helm(kube, ['uninstall', release.name, '--namespace', release.namespace, '--wait']);
  }
}

/** The Helm-installed mesh on the old revision, fresh: no other control plane, sample workloads new. */
export async function resetHelmMesh(kube: Kube): Promise<void> {
  const { istioOld, istioOldRevision, istioNew, istioNewRevision } = kube.info.versions;
  await deleteNamespaces(kube, [...MESH_NAMESPACES, ...(await shapeNamespaces(kube))]);
  await kubectl(kube, ['create', 'namespace', ISTIO_NAMESPACE]).catch(() => undefined);
  await removeHelmMesh(kube);
  // What the istioctl-shaped scenarios leave: istioctl revisions, tags, a non-revisioned istiod, gateways.
  await removeTags(kube, []);
  await removeInstalledGateways(kube, ISTIO_NAMESPACE);
  await uninstallNonRevisioned(kube, istioOld);
  if (await revisionInstalled(kube, istioOldRevision)) await uninstallRevision(kube, istioOld, istioOldRevision);
  if (await revisionInstalled(kube, istioNewRevision)) await uninstallRevision(kube, istioNew, istioNewRevision);

  // --take-ownership: the CRDs exist already (an istioctl install made them), unowned by Helm.
  await helm(kube, ['upgrade', '--install', BASE_RELEASE, ...chart(kube, 'base', istioOld), '--namespace', ISTIO_NAMESPACE, '--take-ownership']);
  await helm(kube, ['upgrade', '--install', istiodRelease(istioOldRevision), ...chart(kube, 'istiod', istioOld), '--namespace', ISTIO_NAMESPACE, '--set', `revision=${istioOldRevision}`, '--set', 'revisionTags={default}']);
  await waitFor(`istiod-${istioOldRevision} Ready`, async () => {
    const d = await kube.apps.readNamespacedDeployment({ name: `istiod-${istioOldRevision}`, namespace: ISTIO_NAMESPACE });
    return (d.status?.readyReplicas ?? 0) >= 1;
  });
  const objects = sampleMeshObjects().filter((o) => !('kind' in o && o.kind === 'Deployment' && 'metadata' in o && (o.metadata as { name?: string }).name === GATEWAY.name));
  await applyObjects(kube, objects);
  await helm(kube, ['upgrade', '--install', GATEWAY_RELEASE.release, ...chart(kube, 'gateway', istioOld), '--namespace', GATEWAY_RELEASE.namespace, '--set', 'service.type=ClusterIP']);
  await waitForMeshOn(kube, istioOldRevision);
}

export { ISTIO_REV_LABEL };
