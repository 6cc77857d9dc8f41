// Prechecks of helm mode, from Helm's ownership marks on the real objects: the old istiod is a release of the
// istiod chart in the Istio namespace, the tag is rendered by that release (its revisionTags), and every gateway
// release named has a Deployment. The helm Jobs then check what only Helm can: the repository has the charts, the
// releases are not pending, the values render (each command of the upgrade, run with --dry-run).
import { owningRelease, istiodRelease, tagObjects } from '../helm-release.ts';
import { chooseHelmImage, newIstiodRelease } from '../helm-jobs.ts';
import { refuse, type Finding, type PrecheckContext } from './context.ts';

export function helmReleases(ctx: PrecheckContext): Finding | undefined {
  const { spec, observed } = ctx.draft;
  if (spec.installer.mode !== 'helm') return undefined;
  const old = istiodRelease(ctx.fromState);
  if (old === undefined) {
    return refuse(
      'InstallerMismatch',
      `${ctx.fromState.deploymentName} (revision ${ctx.from}) is not a Helm release of the istiod chart (it lacks the label app.kubernetes.io/managed-by=Helm, the annotation meta.helm.sh/release-name or the label helm.sh/chart=istiod-<version>); installer.mode helm upgrades Helm-installed control planes only: use installer.mode istioctl or external`,
    );
  }
  const releaseNamespace = owningRelease(ctx.fromState)?.namespace;
  if (releaseNamespace !== undefined && releaseNamespace !== observed.istioNamespace) {
    return refuse('InstallerMismatch', `release ${old.release} of revision ${ctx.from} lives in namespace ${releaseNamespace}, not in the operator's Istio namespace ${observed.istioNamespace}`);
  }
  const next = newIstiodRelease(spec, ctx.to);
  if (next === old.release) return refuse('RevisionConflict', `the new istiod release would be named ${next}, the name of the old one; set installer.helm.releases.istiod to a rule with {revision}`);
  if (spec.additionalTags.length > 0) return refuse('InvalidTag', 'spec.additionalTags: helm mode moves spec.tag only (between the releases\' revisionTags); upgrade with one tag, or use installer.mode istioctl');
  const objects = tagObjects(observed, spec.tag);
  const tagOwner = objects === undefined ? undefined : owningRelease(objects.webhook);
  if (objects === undefined || tagOwner?.name !== old.release) {
    return refuse(
      'TagNotOwnedByRelease',
      `tag "${spec.tag}" is ${objects === undefined ? 'missing' : `rendered by ${tagOwner === undefined ? 'no Helm release' : `release ${tagOwner.name}`}`}, not by release ${old.release} (its revisionTags); helm mode moves the tag between the releases' revisionTags. Set revisionTags={${spec.tag}} on ${old.release} first, or use installer.mode istioctl`,
    );
  }
  for (const gateway of spec.installer.helm.gateways) {
    const deployments = observed.workloads.filter((w) => w.kind === 'Deployment' && w.namespace === gateway.namespace && owningRelease(w)?.name === gateway.release);
    if (deployments.length === 0) {
      return refuse('GatewayNotFound', `installer.helm.gateways: no Deployment of release ${gateway.release} in namespace ${gateway.namespace} (annotation meta.helm.sh/release-name); fix the release name`);
    }
    const listed = deployments.find((d) => spec.gateways.some((g) => g.namespace === d.namespace && g.name === d.name));
    if (listed !== undefined) return refuse('GatewayNotFound', `gateway Deployment ${listed.namespace}/${listed.name} is both in spec.gateways (restarted) and in installer.helm.gateways (upgraded by Helm); list it in one place only`);
  }
  const choice = chooseHelmImage(spec, observed.allowedInstallerImages);
  if (!choice.ok) return refuse('InstallerImageNotAllowed', choice.message);
  return undefined;
}
