// What removing a revision would delete, and what still uses it. `istioctl uninstall --revision R` (no purge)
// deletes every Deployment, DaemonSet, Service, ConfigMap, Pod, Secret, ServiceAccount, Role(Binding), PDB,
// HPA, EnvoyFilter, webhook configuration and ClusterRole(Binding) labelled istio.io/rev=R and
// install.operator.istio.io/owning-resource-namespace=<Istio namespace> whose operator.istio.io/component is
// Pilot, IngressGateways, EgressGateways, Cni or Ztunnel, in every namespace (operator/pkg/uninstall
// GetPrunedResources; Helm-installed objects lack the owner label and are left alone). So anything shared or still referenced among those must hold
// the uninstall, and so must everything that would lose its injector or validator with R.
import { ISTIO_REV_LABEL, ISTIO_TAG_LABEL } from '../api/constants.ts';
import { injectingConfigs } from './injection.ts';
import type { ObservedState, PodState, WebhookConfiguration, WorkloadState } from './observed.ts';
import { DEFAULT_VALIDATOR_NAME } from './tag-webhook.ts';
import { revisionServiceName } from './tags.ts';

export const COMPONENT_LABEL = 'operator.istio.io/component';
export const OWNER_NAMESPACE_LABEL = 'install.operator.istio.io/owning-resource-namespace';
/** The components `istioctl uninstall --revision` removes (everything else, e.g. Base, it leaves). */
export const REMOVED_COMPONENTS: readonly string[] = ['Pilot', 'IngressGateways', 'EgressGateways', 'Cni', 'Ztunnel'];

type Labelled = { readonly labels: Readonly<Record<string, string>> };

/** Would `istioctl uninstall --revision <revision>` delete an object with these labels? */
export function removedBy(object: Labelled, revision: string, istioNamespace: string): boolean {
  const component = object.labels[COMPONENT_LABEL];
  return (
    object.labels[ISTIO_REV_LABEL] === revision &&
    object.labels[OWNER_NAMESPACE_LABEL] === istioNamespace &&
    component !== undefined &&
    REMOVED_COMPONENTS.includes(component)
  );
}

export type ReferenceKind = 'tag' | 'namespace' | 'pod' | 'component' | 'validator';

export interface RevisionReference {
  readonly kind: ReferenceKind;
  readonly name: string;
  readonly why: string;
  /** It goes away by itself (a terminating pod). */
  readonly transient: boolean;
}

function isControlPlanePod(p: PodState, istioNamespace: string): boolean {
  return p.namespace === istioNamespace && p.labels.app === 'istiod';
}

function livePod(p: PodState): boolean {
  // Succeeded and Failed pods never run again, whatever owns them (evicted pods of old ReplicaSets stay Failed).
  return p.phase !== 'Succeeded' && p.phase !== 'Failed';
}

/** Deployments and DaemonSets the uninstall would delete that are not the revision's istiod: gateways, CNI, ztunnel. */
export function sharedComponents(workloads: readonly WorkloadState[], revision: string, istioNamespace: string): WorkloadState[] {
  return workloads.filter((w) => removedBy(w, revision, istioNamespace) && !(w.namespace === istioNamespace && w.labels.app === 'istiod'));
}

export function describeComponent(w: WorkloadState): string {
  const component = w.labels[COMPONENT_LABEL] ?? '?';
  const what = component === 'Cni' ? 'Istio CNI node agent' : component === 'Ztunnel' ? 'ambient ztunnel' : component.endsWith('Gateways') ? 'gateway' : component;
  return `${what} ${w.kind} ${w.namespace}/${w.name} (${COMPONENT_LABEL}=${component})`;
}

/** Validating webhooks that would stop working or be deleted with the revision, beyond the revision's own. */
function dependentValidators(observed: ObservedState, revision: string): WebhookConfiguration[] {
  const service = revisionServiceName(observed.mutatingWebhooks, revision) ?? (revision === 'default' ? 'istiod' : `istiod-${revision}`);
  return observed.validatingWebhooks.filter((v) => {
    const own = v.labels[ISTIO_REV_LABEL] === revision && v.labels[ISTIO_TAG_LABEL] === undefined && v.name !== DEFAULT_VALIDATOR_NAME;
    if (own) return false;
    const callsRevision = v.webhooks.some((w) => w.clientConfig.service?.name === service && w.clientConfig.service.namespace === observed.istioNamespace);
    return callsRevision || removedBy(v, revision, observed.istioNamespace);
  });
}

/**
 * Everything that still uses `revision`: tags that point at it, namespaces whose labels lead their pods to its
 * injector, live pods running its proxy, shared components the uninstall would delete, and validators that
 * call it. `webhooks` is the injection view (the tags as they are now).
 */
export function referencesTo(revision: string, observed: ObservedState, webhooks: readonly WebhookConfiguration[] = observed.mutatingWebhooks): RevisionReference[] {
  const refs: RevisionReference[] = [];
  for (const w of webhooks) {
    const tag = w.labels[ISTIO_TAG_LABEL];
    if (tag !== undefined && w.labels[ISTIO_REV_LABEL] === revision) refs.push({ kind: 'tag', name: tag, why: `tag "${tag}" points at it`, transient: false });
  }
  for (const ns of observed.namespaces) {
    if (ns.labels[ISTIO_REV_LABEL] === undefined && ns.labels['istio-injection'] === undefined) continue;
    const injectors = injectingConfigs(webhooks, ns.labels, { namespace: ns.name, labels: {}, annotations: {}, hostNetwork: false });
    const through = injectors.find((m) => m.revision === revision && m.tag === undefined);
    if (through !== undefined) refs.push({ kind: 'namespace', name: ns.name, why: `labelled to be injected by ${through.config}`, transient: false });
  }
  const pods = [...observed.workloads.flatMap((w) => w.pods), ...observed.otherPods];
  for (const p of pods) {
    if (!livePod(p) || isControlPlanePod(p, observed.istioNamespace) || p.injectedRevision !== revision) continue;
    refs.push({ kind: 'pod', name: `${p.namespace}/${p.name}`, why: 'runs its proxy', transient: p.terminating });
  }
  for (const w of sharedComponents(observed.workloads, revision, observed.istioNamespace)) {
    refs.push({ kind: 'component', name: `${w.namespace}/${w.name}`, why: `${describeComponent(w)} would be deleted by istioctl uninstall`, transient: false });
  }
  for (const v of dependentValidators(observed, revision)) {
    refs.push({ kind: 'validator', name: v.name, why: removedBy(v, revision, observed.istioNamespace) ? 'would be deleted by istioctl uninstall' : `calls istiod of revision ${revision}`, transient: false });
  }
  return refs;
}

export function describeReferences(refs: readonly RevisionReference[], limit = 10): string {
  const shown = refs.slice(0, limit).map((r) => `${r.kind} ${r.name} (${r.why})`);
  const more = refs.length > limit ? ` and ${refs.length - limit} more` : '';
  return `${shown.join(', ')}${more}`;
}

/** What `istioctl uninstall --revision <revision>` deletes, among the objects the operator watches. */
export function removals(observed: ObservedState, revision: string): string[] {
  return watchedObjectsWhere(observed, (o) => removedBy(o, revision, observed.istioNamespace));
}

type Marked = Labelled & { readonly annotations: Readonly<Record<string, string>> };

/** The watched objects an uninstall would delete, as `Kind namespace/name`, sorted. */
export function watchedObjectsWhere(observed: Pick<ObservedState, 'workloads' | 'services' | 'mutatingWebhooks' | 'validatingWebhooks'>, gone: (o: Marked) => boolean): string[] {
  return [
    ...observed.workloads.filter(gone).map((w) => `${w.kind} ${w.namespace}/${w.name}`),
    ...observed.services.filter(gone).map((s) => `Service ${s.namespace}/${s.name}`),
    ...observed.mutatingWebhooks.filter(gone).map((w) => `MutatingWebhookConfiguration ${w.name}`),
    ...observed.validatingWebhooks.filter(gone).map((w) => `ValidatingWebhookConfiguration ${w.name}`),
  ].sort();
}
