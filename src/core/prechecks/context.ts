// The facts every precheck needs, resolved once: the tag's current revision (the old one), its istiod and
// version, and the target. Resolving can itself refuse (no tag, no Ready control plane, ...).
import { ISTIO_REV_LABEL, ISTIO_TAG_LABEL } from '../../api/constants.ts';
import type { Draft } from '../draft.ts';
import type { RevisionState } from '../observed.ts';
import type { Reason } from '../reasons.ts';
import { resolveTag } from '../tags.ts';
import { formatVersion, parseVersion, type IstioVersion } from '../version.ts';

export interface Finding {
  /** refuse: the upgrade ends Failed before anything changes. warning: said in the plan and an Event. */
  readonly severity: 'refuse' | 'warning';
  readonly reason: Reason;
  readonly message: string;
}

export interface PrecheckContext {
  readonly draft: Draft;
  readonly from: string;
  readonly fromState: RevisionState;
  readonly fromVersion: IstioVersion;
  readonly to: string;
  readonly target: IstioVersion;
}

export function refuse(reason: Reason, message: string): Finding {
  return { severity: 'refuse', reason, message };
}

export function warn(reason: Reason, message: string): Finding {
  return { severity: 'warning', reason, message };
}

export type Resolution = { readonly ok: true; readonly context: PrecheckContext } | { readonly ok: false; readonly finding: Finding };

export function resolvePrecheckContext(draft: Draft): Resolution {
  const { spec, observed } = draft;
  const failed = (reason: Reason, message: string): Resolution => ({ ok: false, finding: refuse(reason, message) });
  const target = parseVersion(spec.version);
  if (target === undefined) return failed('InvalidVersion', `spec.version "${spec.version}" is not a version X.Y.Z`);

  const tag = resolveTag(observed, spec.tag);
  if (tag.kind === 'missing') {
    return failed(
      'TagNotFound',
      `revision tag "${spec.tag}" not found: no MutatingWebhookConfiguration labelled ${ISTIO_TAG_LABEL}=${spec.tag}${spec.tag === 'default' ? ' and no active non-revisioned istio-sidecar-injector' : ''}; create it with \`istioctl tag set ${spec.tag} --revision <current revision>\` or set spec.tag`,
    );
  }
  const tagRevision = tag.revision;
  if (tagRevision === undefined) return failed('TagNotFound', `revision tag "${spec.tag}" has no ${ISTIO_REV_LABEL} label`);
  const from = spec.fromRevision ?? tagRevision;
  if (from !== tagRevision) {
    return failed('FromRevisionMismatch', `spec.fromRevision is "${from}" but tag "${spec.tag}" points at revision "${tagRevision}"; fix spec.fromRevision or the tag`);
  }
  const to = draft.toRevision;
  if (from === to) return failed('AlreadyOnRevision', `tag "${spec.tag}" already points at revision "${to}"; nothing to upgrade`);

  const fromState = observed.revisions.find((r) => r.revision === from);
  if (fromState === undefined || !fromState.ready) {
    return failed(
      'FromRevisionNotReady',
      `tag "${spec.tag}" points at revision "${from}" but its istiod is ${fromState === undefined ? 'missing' : 'not Ready'}; repair the current control plane first`,
    );
  }
  const fromVersion = fromState.version === undefined ? undefined : parseVersion(fromState.version);
  if (fromVersion === undefined) {
    return failed('FromVersionUnknown', `cannot tell the Istio version of ${fromState.deploymentName} from its image; run an image tagged with the version`);
  }
  return { ok: true, context: { draft, from, fromState, fromVersion, to, target } };
}

export function describeVersion(v: IstioVersion): string {
  return formatVersion(v);
}
