// Prechecks on the control planes: the target revision name is free (or an adoptable copy of the target), the
// old revision was installed by the installer this upgrade uses, and installing leaves injection alone.
import { DEFAULT_TAG, ISTIO_TAG_LABEL } from '../../api/constants.ts';
import { injectingConfigs } from '../injection.ts';
import { defaultTagExists } from '../injection-view.ts';
import type { RevisionState } from '../observed.ts';
import { asObserved, buildTagWebhook } from '../tag-webhook.ts';
import { findCanonicalWebhook, resolveTag } from '../tags.ts';
import { refuse, warn, type Finding, type PrecheckContext } from './context.ts';

/** The target revision when it already exists: adopted if Ready and of the target version (a retried upgrade). */
export function existingTarget(ctx: PrecheckContext): RevisionState | undefined {
  return ctx.draft.observed.revisions.find((r) => r.revision === ctx.to);
}

export function adoptable(ctx: PrecheckContext): boolean {
  const existing = existingTarget(ctx);
  return ctx.draft.spec.installer.mode === 'istioctl' && existing !== undefined && existing.ready && existing.version === ctx.draft.spec.version;
}

export function targetRevision(ctx: PrecheckContext): Finding | undefined {
  const { spec } = ctx.draft;
  const existing = existingTarget(ctx);
  if (existing === undefined || adoptable(ctx)) return undefined;
  if (spec.installer.mode === 'istioctl') {
    return refuse(
      'RevisionConflict',
      `revision "${ctx.to}" already exists (${existing.deploymentName}, version ${existing.version ?? 'unknown'}, ${existing.ready ? 'Ready' : 'not Ready'}); only a Ready ${spec.version} can be adopted. Choose another spec.revision`,
    );
  }
  if (existing.version !== undefined && existing.version !== spec.version) return refuse('RevisionConflict', `revision "${ctx.to}" runs version ${existing.version}, not ${spec.version}`);
  return undefined;
}

/** Who installed a control plane, from the marks Helm and Argo CD leave on what they own. */
export function foreignOwner(state: RevisionState): string | undefined {
  const release = state.annotations['meta.helm.sh/release-name'];
  if (release !== undefined) return `Helm release "${release}" (annotation meta.helm.sh/release-name)`;
  const tracking = state.annotations['argocd.argoproj.io/tracking-id'];
  if (tracking !== undefined) return `Argo CD (annotation argocd.argoproj.io/tracking-id=${tracking})`;
  const instance = state.labels['argocd.argoproj.io/instance'];
  if (instance !== undefined) return `Argo CD application "${instance}" (label argocd.argoproj.io/instance)`;
  return undefined;
}

export function installerOwnership(ctx: PrecheckContext): Finding | undefined {
  if (ctx.draft.spec.installer.mode !== 'istioctl') return undefined;
  const owner = foreignOwner(ctx.fromState);
  if (owner === undefined) return undefined;
  return refuse(
    'InstallerMismatch',
    `${ctx.fromState.deploymentName} (revision ${ctx.from}) is managed by ${owner}; \`istioctl uninstall\` would delete objects it owns (and Argo CD would recreate them). Use installer.mode: external and let that tool install and remove revisions`,
  );
}

/**
 * `istioctl install --set revision=<new>` creates a `default` tag for the new revision when none exists
 * (operator/pkg/webhook WebhooksToDeploy). If that tag would select anything, injection would change at
 * install time, outside every wave: refuse, unless the operator prepares the default tag itself (a
 * non-revisioned injector to take over from).
 */
export function installLeavesInjection(ctx: PrecheckContext): Finding | undefined {
  const { spec, observed } = ctx.draft;
  if (spec.installer.mode !== 'istioctl' || adoptable(ctx) || defaultTagExists(observed.mutatingWebhooks) || ctx.draft.view.preparation !== undefined) return undefined;
  const canonical = findCanonicalWebhook(observed.mutatingWebhooks, ctx.from);
  if (canonical === undefined) return undefined;
  const wouldBe = buildTagWebhook({ tag: DEFAULT_TAG, revision: ctx.from, istioNamespace: observed.istioNamespace, canonical, existingValidator: undefined, autoInject: false });
  if (!wouldBe.ok) return undefined;
  const tagView = [asObserved(wouldBe.webhook.mutating)];
  const selected = [
    ...observed.namespaces.filter((ns) => injectingConfigs(tagView, ns.labels, { namespace: ns.name, labels: {}, annotations: {}, hostNetwork: false }).length > 0).map((ns) => `namespace ${ns.name}`),
    ...observed.workloads
      .filter((w) => injectingConfigs(tagView, observed.namespaces.find((n) => n.name === w.namespace)?.labels ?? {}, { namespace: w.namespace, labels: w.templateLabels, annotations: w.templateAnnotations, hostNetwork: w.hostNetwork }).length > 0)
      .map((w) => `${w.kind} ${w.namespace}/${w.name}`),
  ];
  if (selected.length === 0) return warn('PrecheckWarning', `there is no default revision tag: istioctl install will create tag "default" for revision ${ctx.to} (it selects nothing today)`);
  return refuse(
    'InstallWouldChangeInjection',
    `there is no default revision tag, so \`istioctl install --set revision=${ctx.to}\` would create one for ${ctx.to} and at once inject ${selected.slice(0, 5).join(', ')}${selected.length > 5 ? ` and ${selected.length - 5} more` : ''} with the new revision, outside every wave. Create the tag on the current revision first: istioctl tag set default --revision ${ctx.from}`,
  );
}

export function additionalTags(ctx: PrecheckContext): Finding | undefined {
  for (const tag of ctx.draft.spec.additionalTags) {
    const resolved = resolveTag(ctx.draft.observed, tag);
    if (resolved.kind === 'missing') return refuse('InvalidTag', `spec.additionalTags: revision tag "${tag}" not found (no MutatingWebhookConfiguration labelled ${ISTIO_TAG_LABEL}=${tag})`);
    if (resolved.revision !== ctx.from) return refuse('InvalidTag', `spec.additionalTags: tag "${tag}" points at revision "${resolved.revision ?? '?'}", not at ${ctx.from}; only tags on the old revision can be moved`);
  }
  return undefined;
}
