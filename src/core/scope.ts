// What the upgrade does to each workload and pod, decided from the webhooks that inject them: a workload is moved
// exactly when the injector of its pods is one of the tags this upgrade moves; everything else is reported with
// the reason, and flagged when it keeps the old revision in use (a blocker of the uninstall).
import { ISTIO_REV_LABEL, ISTIO_PROXY_CONTAINER } from '../api/constants.ts';
import { injectingConfigs, istiodWouldInject } from './injection.ts';
import type { NamespaceState, PodState, WebhookConfiguration, WorkloadKind, WorkloadState } from './observed.ts';

type Labels = Readonly<Record<string, string>>;

/** Why a workload or pod is left alone (status.plan.skipped[].reason). */
export const SKIP_REASONS = [
  'NotInjected',
  'HostNetwork',
  'InjectionDisabled',
  'IgnoredNamespace',
  'PinnedToRevision',
  'NotOnTag',
  'ExcludedNamespace',
  'PartitionedStatefulSet',
  'PausedDeployment',
  'GatewayApiManaged',
  'JobPod',
  'BarePod',
  'NotAWorkload',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type WorkloadScope =
  | {
      readonly move: true;
      /** The tag whose switch moves it. */
      readonly tag: string;
      /** Its namespace is pinned to the old revision and is relabelled to the tag in its wave (adoptPinnedNamespaces). */
      readonly adopt: boolean;
    }
  | {
      readonly move: false;
      readonly reason: SkipReason;
      readonly detail: string;
      /** It runs, or would be injected by, the old revision: the uninstall waits for it. */
      readonly blocksUninstall: boolean;
    };

export interface ScopeContext {
  /** The injector webhooks as they will be when the tags move (see injectionView). */
  readonly webhooks: readonly WebhookConfiguration[];
  readonly namespaces: ReadonlyMap<string, Labels>;
  /** The tags this upgrade moves, primary first. */
  readonly tags: readonly string[];
  readonly fromRevision: string | undefined;
  readonly excludedNamespaces: ReadonlySet<string>;
  readonly adoptPinnedNamespaces: boolean;
}

/** Label on Deployments that istiod's Gateway API controller renders (gateways and waypoints). */
export const GATEWAY_API_MANAGED_LABEL = 'gateway.istio.io/managed';

/** istiod itself (and its pods) is the control plane, not a workload of the mesh. */
export function isControlPlane(w: Pick<WorkloadState, 'labels' | 'namespace'>, istioNamespace: string): boolean {
  return w.namespace === istioNamespace && w.labels.app === 'istiod';
}

/** By list: the informer hands the same list over while no namespace changed. */
const namespaceMaps = new WeakMap<readonly NamespaceState[], ReadonlyMap<string, Labels>>();

export function namespaceMap(namespaces: readonly NamespaceState[]): ReadonlyMap<string, Labels> {
  let map = namespaceMaps.get(namespaces);
  if (map === undefined) {
    map = new Map(namespaces.map((n) => [n.name, n.labels]));
    namespaceMaps.set(namespaces, map);
  }
  return map;
}

function live(p: PodState): boolean {
  return !p.terminating && p.phase !== 'Succeeded' && p.phase !== 'Failed';
}

/** A pod runs a sidecar today: injected (status annotation) or carrying an istio-proxy container. */
export function podHasSidecar(p: PodState): boolean {
  return p.injectedRevision !== undefined || p.proxyImage !== undefined;
}

/** The template brings its own proxy (an istioctl-installed gateway): not injected, the image is fixed. */
export function templateHasOwnProxy(w: WorkloadState): boolean {
  const proxy = w.templateContainers.find((c) => c.name === ISTIO_PROXY_CONTAINER);
  return proxy !== undefined && proxy.image !== undefined && proxy.image !== 'auto';
}

function pinnedNamespace(ctx: ScopeContext, labels: Labels): boolean {
  return ctx.fromRevision !== undefined && labels[ISTIO_REV_LABEL] === ctx.fromRevision && !ctx.tags.includes(ctx.fromRevision);
}

/** Which revision the injectors of a new pod of this template lead to (for blockers), if any. */
function injectedRevisionOf(ctx: ScopeContext, namespace: string, labels: Labels, annotations: Labels, hostNetwork: boolean): { configs: string[]; revisions: string[]; tags: string[] } {
  const nsLabels = ctx.namespaces.get(namespace) ?? {};
  const matches = injectingConfigs(ctx.webhooks, nsLabels, { namespace, labels, annotations, hostNetwork });
  return {
    configs: matches.map((m) => m.config),
    revisions: [...new Set(matches.flatMap((m) => (m.revision === undefined ? [] : [m.revision])))],
    tags: [...new Set(matches.flatMap((m) => (m.tag === undefined ? [] : [m.tag])))],
  };
}

export function classifyWorkload(w: WorkloadState, ctx: ScopeContext): WorkloadScope {
  const onOld = ctx.fromRevision !== undefined && w.pods.some((p) => live(p) && p.injectedRevision === ctx.fromRevision);
  const skip = (reason: SkipReason, detail: string, blocks = onOld): WorkloadScope => ({ move: false, reason, detail, blocksUninstall: blocks });

  if (w.labels[GATEWAY_API_MANAGED_LABEL] !== undefined) {
    return skip('GatewayApiManaged', `rendered by istiod's Gateway API controller (${GATEWAY_API_MANAGED_LABEL}=${w.labels[GATEWAY_API_MANAGED_LABEL] ?? ''}); istiod re-renders it when the tag moves`);
  }
  const verdict = istiodWouldInject({ namespace: w.namespace, labels: w.templateLabels, annotations: w.templateAnnotations, hostNetwork: w.hostNetwork });
  if (!verdict.inject) {
    const details = { HostNetwork: 'hostNetwork pods are never injected', InjectionDisabled: 'sidecar injection disabled (sidecar.istio.io/inject: "false")', IgnoredNamespace: 'istiod never injects this namespace' };
    return skip(verdict.why, details[verdict.why]);
  }
  if (templateHasOwnProxy(w)) return skip('NotInjected', 'its pod template carries its own istio-proxy image (installed by istioctl, not injected)');

  const pin = w.templateLabels[ISTIO_REV_LABEL];
  if (pin !== undefined && !ctx.tags.includes(pin)) {
    return skip('PinnedToRevision', `pinned to revision "${pin}" by its own ${ISTIO_REV_LABEL} label`, onOld || pin === ctx.fromRevision);
  }

  const nsLabels = ctx.namespaces.get(w.namespace) ?? {};
  const injectors = injectedRevisionOf(ctx, w.namespace, w.templateLabels, w.templateAnnotations, w.hostNetwork);
  const tag = ctx.tags.find((t) => injectors.tags.includes(t));
  const adopt = ctx.adoptPinnedNamespaces && pinnedNamespace(ctx, nsLabels) && pin === undefined;
  if (tag === undefined && !adopt) {
    if (injectors.configs.length === 0) return skip('NotInjected', 'no injector webhook selects its pods');
    const byOld = ctx.fromRevision !== undefined && injectors.revisions.includes(ctx.fromRevision);
    return skip('NotOnTag', `injected through ${injectors.configs.join(', ')}${injectors.tags.length > 0 ? ` (tag ${injectors.tags.join(', ')})` : ` (revision ${injectors.revisions.join(', ') || '?'})`}, which this upgrade does not move`, onOld || byOld);
  }
  if (tag !== undefined && injectors.configs.length > 1) {
    return skip('NotOnTag', `selected by several injectors at once (${injectors.configs.join(', ')}); fix the overlapping webhooks`);
  }
  const livePods = w.pods.filter(live);
  if (livePods.length > 0 && !livePods.some(podHasSidecar)) return skip('NotInjected', 'its pods run without a sidecar today; restarting it would inject it for the first time');
  if (ctx.excludedNamespaces.has(w.namespace)) return skip('ExcludedNamespace', 'its namespace is in spec.rollout.excludeNamespaces');
  if (w.update === 'partitioned') return skip('PartitionedStatefulSet', 'a StatefulSet partition keeps its lower ordinals on the old template on purpose; lower the partition to move them');
  if (w.update === 'paused') return skip('PausedDeployment', 'the Deployment is paused: a restart would not roll; resume it to move it');
  return { move: true, tag: tag ?? ctx.tags[0] ?? '', adopt: tag === undefined && adopt };
}

export interface PodScope {
  readonly reason: SkipReason;
  readonly detail: string;
  readonly blocksUninstall: boolean;
}

/** Pods outside Deployments/StatefulSets/DaemonSets are never restarted; this says why and whether they pin the old revision. */
export function classifyOtherPod(p: PodState, ctx: ScopeContext): PodScope {
  const blocks = ctx.fromRevision !== undefined && live(p) && p.injectedRevision === ctx.fromRevision;
  if (p.owner === undefined) return { reason: 'BarePod', detail: 'bare pod', blocksUninstall: blocks };
  if (p.owner.kind === 'Job') return { reason: 'JobPod', detail: `pod of Job ${p.owner.name}`, blocksUninstall: blocks };
  return { reason: 'NotAWorkload', detail: `pod of ${p.owner.kind} ${p.owner.name}`, blocksUninstall: blocks };
}

export function workloadKeyOf(w: { kind: WorkloadKind | 'Pod'; namespace: string; name: string }): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}
