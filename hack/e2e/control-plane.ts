// Control-plane shapes for the end-to-end tests, made with the real istioctl: the standard revisioned mesh
// (revision + tag "default"), a non-revisioned one as meshes that began before revisions have it (Deployment
// istiod, webhook istio-sidecar-injector active, no tag), extra tags, and the way back to the standard shape.
import yaml from 'js-yaml';
import type { V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE, ISTIO_TAG_LABEL } from '../../src/api/constants.ts';
import { exists, ignoreNotFound, istioctl, waitFor, type Kube } from './kube.ts';

export const NON_REVISIONED_INJECTOR = 'istio-sidecar-injector';

export async function nonRevisionedInstalled(kube: Kube): Promise<boolean> {
  return exists(() => kube.apps.readNamespacedDeployment({ name: 'istiod', namespace: ISTIO_NAMESPACE }));
}

async function waitForIstiod(kube: Kube, name: string): Promise<void> {
  await waitFor(`${name} Ready`, async () => {
    const d = await kube.apps.readNamespacedDeployment({ name, namespace: ISTIO_NAMESPACE });
    return (d.status?.readyReplicas ?? 0) >= 1;
  }, 180_000);
}

/** Deletes every revision tag but `keep` (webhook, validator when it is a tag's, and Service). */
export async function removeTags(kube: Kube, keep: readonly string[]): Promise<void> {
  const tags = await kube.admission.listMutatingWebhookConfiguration({ labelSelector: ISTIO_TAG_LABEL });
  for (const webhook of tags.items) {
    const tag = webhook.metadata?.labels?.[ISTIO_TAG_LABEL] ?? '';
    if (keep.includes(tag)) continue;
    await ignoreNotFound(() => kube.admission.deleteMutatingWebhookConfiguration({ name: webhook.metadata?.name ?? '' }));
    await ignoreNotFound(() => kube.core.deleteNamespacedService({ name: `istiod-revision-tag-${tag}`, namespace: ISTIO_NAMESPACE }));
    if (tag === 'default') await ignoreNotFound(() => kube.admission.deleteValidatingWebhookConfiguration({ name: 'istiod-default-validator' }));
  }
}

/** The non-revisioned injector as the chart renders it (active selectors), from `istioctl manifest generate`. */
async function renderedInjector(kube: Kube, version: string): Promise<V1MutatingWebhookConfiguration> {
  const manifests = await istioctl(kube, version, ['manifest', 'generate', '--set', 'profile=minimal']);
  const found = yaml.loadAll(manifests).find((o): o is V1MutatingWebhookConfiguration => typeof o === 'object' && o !== null && 'kind' in o && o.kind === 'MutatingWebhookConfiguration' && 'metadata' in o && (o as V1MutatingWebhookConfiguration).metadata?.name === NON_REVISIONED_INJECTOR);
  if (found === undefined) throw new Error('istioctl manifest generate rendered no istio-sidecar-injector');
  return found;
}

/**
 * A non-revisioned control plane with no tag: `istioctl install` (no revision) makes the default tag itself and
 * deactivates istio-sidecar-injector, so the tag is removed and the injector's rendered selectors restored,
 * which is how a mesh that predates revision tags looks.
 */
export async function installNonRevisioned(kube: Kube, version: string): Promise<void> {
  if (!(await nonRevisionedInstalled(kube))) await istioctl(kube, version, ['install', '--set', 'profile=minimal', '-y']);
  await waitForIstiod(kube, 'istiod');
  await removeTags(kube, []);
  const rendered = await renderedInjector(kube, version);
  const live = await kube.admission.readMutatingWebhookConfiguration({ name: NON_REVISIONED_INJECTOR });
  const selectors = new Map((rendered.webhooks ?? []).map((w) => [w.name, w]));
  for (const webhook of live.webhooks ?? []) {
    const wanted = selectors.get(webhook.name);
    if (wanted === undefined) continue;
    if (wanted.namespaceSelector === undefined) delete webhook.namespaceSelector;
    else webhook.namespaceSelector = wanted.namespaceSelector;
    if (wanted.objectSelector === undefined) delete webhook.objectSelector;
    else webhook.objectSelector = wanted.objectSelector;
  }
  await kube.admission.replaceMutatingWebhookConfiguration({ name: NON_REVISIONED_INJECTOR, body: live });
}

export async function uninstallNonRevisioned(kube: Kube, version: string): Promise<void> {
  if (await nonRevisionedInstalled(kube)) await istioctl(kube, version, ['uninstall', '--revision', 'default', '-y']);
  await waitFor('istiod gone', async () => !(await nonRevisionedInstalled(kube)), 120_000);
  await ignoreNotFound(() => kube.admission.deleteMutatingWebhookConfiguration({ name: NON_REVISIONED_INJECTOR }));
}

/** The labels istioctl put on a Deployment, to make look-alikes of its components (e.g. a CNI DaemonSet). */
export async function installedLabels(kube: Kube, deployment: string): Promise<Record<string, string>> {
  const d = await kube.apps.readNamespacedDeployment({ name: deployment, namespace: ISTIO_NAMESPACE });
  return d.metadata?.labels ?? {};
}

/** Namespaces created by shape scenarios (labelled iuo.test/shape), left by an earlier test. */
export async function shapeNamespaces(kube: Kube): Promise<string[]> {
  const list = await kube.core.listNamespace({ labelSelector: 'iuo.test/shape' });
  return list.items.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
}

export async function deleteNamespaces(kube: Kube, names: readonly string[]): Promise<void> {
  for (const name of names) await ignoreNotFound(() => kube.core.deleteNamespace({ name }));
  await waitFor(`namespaces ${names.join(', ')} deleted`, async () => {
    for (const name of names) if (await exists(() => kube.core.readNamespace({ name }))) return false;
    return true;
  }, 180_000, 1000);
}

/**
 * Gateways an istioctl install of some scenario left in the Istio namespace (a profile with gateways): they
 * belong to a revision, so `istioctl uninstall --revision` would delete them and every later upgrade would
 * rightly wait for them. A fresh scenario starts without them.
 */
export async function removeInstalledGateways(kube: Kube, istioNamespace: string): Promise<string[]> {
  const selector = 'operator.istio.io/component in (IngressGateways,EgressGateways)';
  const removed: string[] = [];
  for (const d of (await kube.apps.listNamespacedDeployment({ namespace: istioNamespace, labelSelector: selector })).items) {
    const name = d.metadata?.name ?? '';
    await ignoreNotFound(() => kube.apps.deleteNamespacedDeployment({ name, namespace: istioNamespace }));
    await ignoreNotFound(() => kube.core.deleteNamespacedService({ name, namespace: istioNamespace }));
    removed.push(name);
  }
  return removed;
}
