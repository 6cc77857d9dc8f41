// Prechecking: refuse anything that would leave the mesh worse off, before touching the cluster.
import { ISTIO_REV_LABEL, ISTIO_TAG_LABEL } from '../../api/constants.ts';
import type { Draft } from '../draft.ts';
import { findJob, installerJob } from '../installer-jobs.ts';
import { kubernetesMinor, kubernetesSupport } from '../support-matrix.ts';
import { fail, next, working, type StepOutcome } from '../step.ts';
import { tagTarget } from '../tag-webhook.ts';
import { namespaceUsesTag } from '../workloads.ts';
import { compareVersions, formatVersion, parseVersion } from '../version.ts';

function tagWebhook(draft: Draft) {
  return draft.observed.mutatingWebhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === draft.spec.tag);
}

export function prechecking(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const target = parseVersion(spec.version);
  if (target === undefined) return fail('InvalidVersion', `spec.version "${spec.version}" is not a version X.Y.Z`);

  const tag = tagWebhook(draft);
  if (tag === undefined) {
    return fail(
      'TagNotFound',
      `revision tag "${spec.tag}" not found: no MutatingWebhookConfiguration labelled ${ISTIO_TAG_LABEL}=${spec.tag}; create it with \`istioctl tag set ${spec.tag} --revision <current revision>\` or set spec.tag`,
    );
  }
  const tagRevision = tagTarget(tag).revision;
  if (tagRevision === undefined) return fail('TagNotFound', `revision tag "${spec.tag}" (${tag.name}) has no ${ISTIO_REV_LABEL} label`);

  const from = spec.fromRevision ?? tagRevision;
  if (from !== tagRevision) {
    return fail('FromRevisionMismatch', `spec.fromRevision is "${from}" but tag "${spec.tag}" points at revision "${tagRevision}"; fix spec.fromRevision or the tag`);
  }
  const to = draft.toRevision;
  if (from === to) return fail('AlreadyOnRevision', `tag "${spec.tag}" already points at revision "${to}"; nothing to upgrade`);
  draft.status.fromRevision = from;
  draft.status.toRevision = to;

  const fromState = observed.revisions.find((r) => r.revision === from);
  if (fromState === undefined || !fromState.ready) {
    return fail(
      'FromRevisionNotReady',
      `tag "${spec.tag}" points at revision "${from}" but istiod-${from} is ${fromState === undefined ? 'missing' : 'not Ready'}; repair the current control plane first`,
    );
  }
  const fromVersion = fromState.version === undefined ? undefined : parseVersion(fromState.version);
  if (fromVersion === undefined) {
    return fail('FromVersionUnknown', `cannot tell the Istio version of istiod-${from} from its image; set an image tagged with the version`);
  }
  draft.status.fromVersion = formatVersion(fromVersion);

  if (compareVersions(target, fromVersion) < 0 && !spec.precheck.allowDowngrade) {
    return fail('DowngradeNotAllowed', `${spec.version} is older than the running ${formatVersion(fromVersion)}; set spec.precheck.allowDowngrade: true to downgrade on purpose`);
  }
  const minorJump = Math.abs(target.minor - fromVersion.minor);
  if (target.major !== fromVersion.major || minorJump > spec.precheck.maxMinorSkip) {
    return fail(
      'VersionSkewTooLarge',
      `${formatVersion(fromVersion)} -> ${spec.version} spans ${target.major !== fromVersion.major ? 'a major version' : `${minorJump} minor versions`}; a canary upgrade may skip at most ${spec.precheck.maxMinorSkip}. Upgrade through an intermediate version`,
    );
  }

  const kubeMinor = kubernetesMinor(observed.kubernetesVersion);
  const support = kubeMinor === undefined ? { kind: 'unknown' as const } : kubernetesSupport(target.major, target.minor, kubeMinor);
  if (support.kind === 'unsupported') {
    return fail(
      'KubernetesVersionUnsupported',
      `Istio ${target.major}.${target.minor} supports Kubernetes 1.${support.range.minMinor}-1.${support.range.maxMinor}; this cluster runs ${observed.kubernetesVersion}`,
    );
  }
  const warnings: string[] = [];
  if (support.kind === 'unknown') {
    warnings.push(`Kubernetes support of Istio ${target.major}.${target.minor} on ${observed.kubernetesVersion} is not known to this operator; check the Istio support matrix`);
  }

  const existing = observed.revisions.find((r) => r.revision === to);
  if (existing !== undefined) {
    const sameVersion = existing.version === spec.version;
    if (spec.installer.mode === 'istioctl') {
      if (!sameVersion || !existing.ready) {
        return fail(
          'RevisionConflict',
          `revision "${to}" already exists (istiod-${to}, version ${existing.version ?? 'unknown'}, ${existing.ready ? 'Ready' : 'not Ready'}); only a Ready ${spec.version} can be adopted. Choose another spec.revision`,
        );
      }
      draft.status.adoptedRevision = true;
    } else if (!sameVersion && existing.version !== undefined) {
      return fail('RevisionConflict', `revision "${to}" runs version ${existing.version}, not ${spec.version}`);
    }
  }

  for (const gateway of spec.gateways) {
    const found = observed.workloads.some((w) => w.kind === 'Deployment' && w.namespace === gateway.namespace && w.name === gateway.name);
    if (!found) return fail('GatewayNotFound', `gateway Deployment ${gateway.namespace}/${gateway.name} not found; fix spec.gateways`);
  }

  for (const wave of spec.rollout.waves) {
    for (const ns of wave.namespaces ?? []) {
      const state = observed.namespaces.find((n) => n.name === ns);
      if (state === undefined) return fail('InvalidWave', `wave "${wave.name}": namespace "${ns}" does not exist`);
      if (!namespaceUsesTag(state.labels, spec.tag)) {
        return fail('InvalidWave', `wave "${wave.name}": namespace "${ns}" does not use tag "${spec.tag}" (label it ${ISTIO_REV_LABEL}=${spec.tag} or remove it from the wave)`);
      }
    }
  }

  if (spec.installer.mode === 'istioctl' && spec.precheck.istioctl) {
    const action = installerJob(draft.upgrade.metadata, spec, 'precheck', to);
    const job = findJob(observed.jobs, action.jobName);
    if (job === undefined) return working('RunningPrecheck', `running \`istioctl ${action.args.join(' ')}\` (Job ${action.jobName})`, [action]);
    if (job.outcome === 'Running') return working('RunningPrecheck', `waiting for \`istioctl x precheck\` (Job ${job.name})`);
    if (job.outcome === 'Failed') return fail('PrecheckFailed', `istioctl x precheck failed (Job ${job.name}): ${job.message ?? 'no output'}`);
  }

  for (const warning of warnings) draft.event('Warning', 'PrecheckWarning', warning);
  const summary = `${formatVersion(fromVersion)} (${from}) -> ${spec.version} (${to}) allowed${draft.status.adoptedRevision === true ? `; adopting existing Ready revision ${to}` : ''}`;
  draft.setCondition('PrecheckPassed', 'True', 'PrecheckPassed', [summary, ...warnings].join('; '));
  return next('Installing', summary);
}
