// "What will this do to my mesh?": the waves with their namespaces and workload counts, what is never restarted
// and why, what will hold the uninstall, and what the uninstall removes. Written to status.plan at the precheck
// (before the first action) and printed by `istio-upgrade-operator plan` for a manifest, from the same code.
import { DEFAULT_TAG, ISTIO_REV_LABEL, UPGRADE_LABEL } from '../api/constants.ts';
import { MAX_LISTED, type PlanItem, type UpgradePlan } from '../api/schema.ts';
import { byCodeUnits } from './by-code-units.ts';
import type { Draft } from './draft.ts';
import { istiodRelease, releaseObjects } from './helm-release.ts';
import { referencesTo, removals } from './inventory.ts';
import { resolvePrecheckContext, runPrechecks, type Finding } from './prechecks/index.ts';
import { isControlPlane } from './scope.ts';
import { DEFAULT_VALIDATOR_NAME, tagServiceName, tagWebhookName } from './tag-webhook.ts';
import { resolveWaves, waveTag } from './waves.ts';

/** Why something keeps the old revision in use, besides the skip reasons (status.plan.blockers[].reason). */
export const BLOCKER_REASONS = ['OtherTagOnOldRevision', 'PinnedNamespace', 'RevisionInUse'] as const;

export interface PlanPreview {
  readonly plan: UpgradePlan;
  readonly refusal: Finding | undefined;
  readonly warnings: readonly Finding[];
}

function bounded<T>(items: readonly T[]): T[] {
  return items.slice(0, MAX_LISTED);
}

/** Everything that keeps the old revision in use and that this upgrade will not move by itself. */
export function blockers(draft: Draft, from: string): PlanItem[] {
  const { view, observed, spec } = draft;
  const items: PlanItem[] = [];
  for (const { workload, scope } of view.workloads) {
    if (!scope.move && scope.blocksUninstall) items.push({ kind: workload.kind, name: `${workload.namespace}/${workload.name}`, reason: scope.reason, message: scope.detail });
  }
  for (const { pod, scope } of view.otherPods) {
    if (scope.blocksUninstall) items.push({ kind: 'Pod', name: `${pod.namespace}/${pod.name}`, reason: scope.reason, message: `${scope.detail}; no wave restarts it` });
  }
  const adopted = new Set(view.workloads.flatMap((s) => (s.scope.move && s.scope.adopt ? [s.workload.namespace] : [])));
  for (const ref of referencesTo(from, observed, view.webhooks)) {
    if (ref.kind === 'pod') continue; // pods are covered above, with their reason
    if (ref.kind === 'tag' && draft.tags.includes(ref.name)) continue;
    if (ref.kind === 'namespace' && (adopted.has(ref.name) || spec.rollout.adoptPinnedNamespaces)) continue;
    if (ref.kind === 'validator' && ref.name === DEFAULT_VALIDATOR_NAME && draft.tags.includes('default')) continue;
    const kind = { tag: 'MutatingWebhookConfiguration', namespace: 'Namespace', component: 'Workload', validator: 'ValidatingWebhookConfiguration' }[ref.kind];
    const message = ref.kind === 'namespace' ? `${ref.why}: pinned to revision ${from} by ${ISTIO_REV_LABEL}; relabel it to the tag (or set rollout.adoptPinnedNamespaces)` : ref.why;
    items.push({ kind, name: ref.name, reason: ref.kind === 'tag' ? 'OtherTagOnOldRevision' : ref.kind === 'namespace' ? 'PinnedNamespace' : 'RevisionInUse', message });
  }
  return items;
}

export function previewPlan(draft: Draft): PlanPreview {
  const { spec, observed, view } = draft;
  const resolution = resolvePrecheckContext(draft);
  const resolved = resolution.ok ? runPrechecks(resolution.context) : { refusal: resolution.finding, warnings: [] };
  const namespaceLists = resolveWaves(spec, view, observed.namespaces, draft.status.waves ?? []);
  const moves = view.workloads.filter((s) => s.scope.move);
  const gatewayKeys = new Set(spec.gateways.map((g) => `${g.namespace}/${g.name}`));
  const waves = spec.rollout.waves.map((wave, index) => {
    const namespaces = namespaceLists[index] ?? [];
    const inWave = new Set(namespaces);
    const tag = waveTag(spec, wave);
    const workloads = moves.filter((s) => s.scope.move && s.scope.tag === tag && inWave.has(s.workload.namespace) && !gatewayKeys.has(`${s.workload.namespace}/${s.workload.name}`)).length;
    return { name: wave.name, tag, namespaces: bounded(namespaces), namespaceCount: namespaces.length, workloads };
  });
  const skipped: PlanItem[] = [
    ...view.workloads.flatMap(({ workload, scope }) =>
      scope.move || scope.reason === 'GatewayApiManaged' || isControlPlane(workload, observed.istioNamespace) ? [] : [{ kind: workload.kind, name: `${workload.namespace}/${workload.name}`, reason: scope.reason, message: scope.detail }],
    ),
    // The operator's own installer Job pods are not part of the mesh.
    ...view.otherPods.filter(({ pod }) => pod.labels[UPGRADE_LABEL] === undefined).map(({ pod, scope }) => ({ kind: 'Pod', name: `${pod.namespace}/${pod.name}`, reason: scope.reason, message: scope.detail })),
  ].sort((a, b) => byCodeUnits(`${a.kind}/${a.name}`, `${b.kind}/${b.name}`));
  const from = resolution.ok ? resolution.context.from : draft.fromRevision;
  const blocking = from === undefined ? [] : blockers(draft, from);
  const managed = view.workloads.filter((s) => !s.scope.move && s.scope.reason === 'GatewayApiManaged').map((s) => `${s.workload.kind} ${s.workload.namespace}/${s.workload.name}`);
  // The objects of the tags this upgrade moves are rewritten without istioctl's owner labels and pointing at the
  // new revision, so the uninstall will not delete them even if it would today.
  const rewritten = new Set(
    draft.tags.flatMap((tag) => [
      `MutatingWebhookConfiguration ${tagWebhookName(tag, observed.istioNamespace)}`,
      `Service ${observed.istioNamespace}/${tagServiceName(tag)}`,
      ...(tag === DEFAULT_TAG ? [`ValidatingWebhookConfiguration ${DEFAULT_VALIDATOR_NAME}`] : []),
    ]),
  );
  const helmRelease = spec.installer.mode === 'helm' ? istiodRelease(observed.revisions.find((r) => r.revision === from))?.release : undefined;
  const removable = from === undefined || !spec.uninstall.enabled ? [] : helmRelease !== undefined ? releaseObjects(observed, helmRelease) : removals(observed, from);
  const removed = removable.filter((r) => !rewritten.has(r));
  const warnings = [
    ...resolved.warnings.map((w) => w.message),
    ...(view.preparation === undefined ? [] : [`there is no default revision tag: the non-revisioned ${view.preparation.injector.name} injects today; the operator first creates tag "default" on that control plane (as \`istioctl tag set default --revision default\`), which changes no injection`]),
  ];
  const plan: UpgradePlan = {
    waves,
    ...(spec.gateways.length > 0 ? { gateways: spec.gateways.map((g) => `${g.namespace}/${g.name}`) } : {}),
    ...(skipped.length > 0 ? { skipped: bounded(skipped), skippedCount: skipped.length } : {}),
    ...(blocking.length > 0 ? { blockers: bounded(blocking), blockerCount: blocking.length } : {}),
    ...(managed.length > 0 ? { managedByIstiod: bounded(managed) } : {}),
    ...(removed.length > 0 ? { removals: bounded(removed) } : {}),
    ...(warnings.length > 0 ? { warnings: bounded(warnings) } : {}),
  };
  return { plan, refusal: resolved.refusal, warnings: resolved.warnings };
}
