// What Helm left on the objects it owns (pkg/action/validate.go checkOwnership, the charts' istio.labels): the
// release an object belongs to and the chart version it was rendered from. Helm mode decides every step from these
// marks on the cluster's real objects, never from names.
import { ISTIO_TAG_LABEL } from '../api/constants.ts';
import { watchedObjectsWhere } from './inventory.ts';
import type { ObservedState, RevisionState, WebhookConfiguration } from './observed.ts';

export const HELM_RELEASE_NAME_ANNOTATION = 'meta.helm.sh/release-name';
export const HELM_RELEASE_NAMESPACE_ANNOTATION = 'meta.helm.sh/release-namespace';
export const HELM_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const HELM_CHART_LABEL = 'helm.sh/chart';
/** Helm skips deleting an object carrying it when a release stops rendering it (pkg/kube/client.go update). */
export const HELM_RESOURCE_POLICY_ANNOTATION = 'helm.sh/resource-policy';

type Marked = Pick<RevisionState, 'labels' | 'annotations'>;

export interface HelmRelease {
  readonly name: string;
  readonly namespace: string | undefined;
}

/** The release that owns an object, when Helm's ownership marks are all there. */
export function owningRelease(object: Marked): HelmRelease | undefined {
  const name = object.annotations[HELM_RELEASE_NAME_ANNOTATION];
  if (name === undefined || object.labels[HELM_MANAGED_BY_LABEL] !== 'Helm') return undefined;
  return { name, namespace: object.annotations[HELM_RELEASE_NAMESPACE_ANNOTATION] };
}

/** `helm.sh/chart: istiod-1.30.4` -> { chart: istiod, version: 1.30.4 }. */
export function chartOf(object: Marked): { readonly chart: string; readonly version: string } | undefined {
  const match = /^(.+?)-(v?\d+\.\d+\.\d+\S*)$/.exec(object.labels[HELM_CHART_LABEL] ?? '');
  return match?.[1] === undefined || match[2] === undefined ? undefined : { chart: match[1], version: match[2] };
}

/** The istiod release of a revision: its Deployment's owner and the istiod chart version it runs. */
export interface IstiodRelease {
  readonly release: string;
  readonly chartVersion: string;
}

export function istiodRelease(state: RevisionState | undefined): IstiodRelease | undefined {
  if (state === undefined) return undefined;
  const owner = owningRelease(state);
  const chart = chartOf(state);
  if (owner === undefined || chart?.chart !== 'istiod') return undefined;
  return { release: owner.name, chartVersion: chart.version };
}

/** The revision tags (injector webhooks labelled istio.io/tag) a release renders today, sorted. */
export function tagsOwnedBy(webhooks: readonly WebhookConfiguration[], release: string): string[] {
  return webhooks
    .filter((w) => owningRelease(w)?.name === release)
    .map((w) => w.labels[ISTIO_TAG_LABEL])
    .filter((t): t is string => t !== undefined)
    .sort();
}

/** The tag's objects Helm moves with revisionTags: its injector webhook and its Service in the Istio namespace. */
export interface TagObjects {
  readonly webhook: WebhookConfiguration;
  readonly service: { readonly name: string; readonly annotations: Readonly<Record<string, string>> } | undefined;
}

export function tagObjects(observed: Pick<ObservedState, 'mutatingWebhooks' | 'services' | 'istioNamespace'>, tag: string): TagObjects | undefined {
  const webhook = observed.mutatingWebhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === tag);
  if (webhook === undefined) return undefined;
  const service = observed.services.find((s) => s.namespace === observed.istioNamespace && s.labels[ISTIO_TAG_LABEL] === tag);
  return { webhook, service: service === undefined ? undefined : { name: service.name, annotations: service.annotations } };
}

export function keptByPolicy(objects: TagObjects): boolean {
  return objects.webhook.annotations[HELM_RESOURCE_POLICY_ANNOTATION] === 'keep' || objects.service?.annotations[HELM_RESOURCE_POLICY_ANNOTATION] === 'keep';
}

export function fullyKept(objects: TagObjects): boolean {
  return objects.webhook.annotations[HELM_RESOURCE_POLICY_ANNOTATION] === 'keep' && (objects.service === undefined || objects.service.annotations[HELM_RESOURCE_POLICY_ANNOTATION] === 'keep');
}

/** What `helm uninstall <release>` deletes, among the objects the operator watches (the release's own marks). */
export function releaseObjects(observed: Pick<ObservedState, 'workloads' | 'services' | 'mutatingWebhooks' | 'validatingWebhooks'>, release: string): string[] {
  return watchedObjectsWhere(observed, (o) => owningRelease(o)?.name === release);
}
