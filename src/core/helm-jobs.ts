// Helm mode's Jobs: one helm command each, deterministic names (a resumed operator finds, never repeats, them),
// the command lines of Istio's Helm canary procedure. Every chart upgrade uses --reset-then-reuse-values: the
// release keeps the values its owner gave it, on top of the new chart's defaults.
import type { HelmPurpose, RunInstallerJob } from './actions.ts';
import type { IstioUpgradeSpec } from '../api/schema.ts';
import type { Draft } from './draft.ts';
import { chooseInstallerImage, type InstallerImageChoice } from './installer-images.ts';
import { OVERLAY_PATH, installerJobName } from './installer-jobs.ts';

export type IstioChart = 'base' | 'istiod' | 'gateway';

/** Environment variables the Job fills from spec.installer.helm.credentialsSecret; Kubernetes expands $(VAR) in args. */
export const HELM_USERNAME_ENV = 'HELM_REPO_USERNAME';
export const HELM_PASSWORD_ENV = 'HELM_REPO_PASSWORD';

export interface HelmJobContext {
  readonly upgrade: { readonly name: string; readonly uid: string };
  readonly spec: IstioUpgradeSpec;
  readonly istioNamespace: string;
  readonly allowedImages: readonly string[];
}

/** The new istiod release: the naming rule with {revision} replaced. */
export function newIstiodRelease(spec: IstioUpgradeSpec, revision: string): string {
  return spec.installer.helm.releases.istiod.replaceAll('{revision}', revision);
}

/** The chart argument(s): `<chart> --repo <url>`, or `oci://registry/path/<chart>`. */
export function chartArgs(spec: IstioUpgradeSpec, chart: IstioChart): string[] {
  const repository = spec.installer.helm.repository ?? '';
  const credentials = spec.installer.helm.credentialsSecret === undefined ? [] : ['--username', `$(${HELM_USERNAME_ENV})`, '--password', `$(${HELM_PASSWORD_ENV})`];
  if (repository.startsWith('oci://')) return [`${repository.replace(/\/+$/, '')}/${chart}`, ...credentials];
  return [chart, '--repo', repository, ...credentials];
}

function tagList(tags: readonly string[]): string {
  return tags.length === 0 ? 'revisionTags=null' : `revisionTags={${tags.join(',')}}`;
}

/** spec.installer.helm.image against the operator's allowlist (the tag is the Helm version). */
export function chooseHelmImage(spec: IstioUpgradeSpec, allowed: readonly string[]): InstallerImageChoice {
  const image = spec.installer.helm.image;
  const colon = image.lastIndexOf(':');
  return chooseInstallerImage(image.slice(0, colon), image.slice(colon + 1), allowed, 'spec.installer.helm.image');
}

/** The image the Job runs: the pinned reference when the allowlist has one (the precheck refused the rest). */
function helmImage(ctx: HelmJobContext): string {
  const choice = chooseHelmImage(ctx.spec, ctx.allowedImages);
  return choice.ok ? choice.reference : ctx.spec.installer.helm.image;
}

function helmJob(ctx: HelmJobContext, purpose: HelmPurpose, args: readonly string[], values: Readonly<Record<string, unknown>> = {}): RunInstallerJob {
  const withValues = Object.keys(values).length > 0;
  return {
    type: 'runInstallerJob',
    tool: 'helm',
    purpose,
    jobName: installerJobName(ctx.upgrade.name, ctx.upgrade.uid, purpose),
    image: helmImage(ctx),
    args: [...args, ...(withValues ? ['-f', OVERLAY_PATH] : [])],
    overlay: withValues ? values : undefined,
    credentialsSecret: ctx.spec.installer.helm.credentialsSecret,
  };
}

/** The new istiod release, installed beside the old one (precheck: the same command, --dry-run). */
export function installIstiodJob(ctx: HelmJobContext, revision: string, dryRun: boolean): RunInstallerJob {
  const { spec } = ctx;
  const args = ['upgrade', '--install', newIstiodRelease(spec, revision), ...chartArgs(spec, 'istiod'), '--version', spec.version, '--namespace', ctx.istioNamespace, '--set', `revision=${revision}`, ...(dryRun ? ['--dry-run'] : [])];
  return helmJob(ctx, dryRun ? 'precheck' : 'install', args, spec.installer.helm.values.istiod);
}

/** The base chart (CRDs) upgraded to the target version first, as Istio's Helm upgrade does. */
export function installBaseJob(ctx: HelmJobContext): RunInstallerJob {
  const { spec } = ctx;
  const args = ['upgrade', '--install', spec.installer.helm.releases.base, ...chartArgs(spec, 'base'), '--version', spec.version, '--namespace', ctx.istioNamespace, '--reset-then-reuse-values'];
  return helmJob(ctx, 'install-base', args, spec.installer.helm.values.base);
}

export interface ReleaseAt {
  readonly release: string;
  readonly chartVersion: string;
}

/**
 * Sets the revisionTags of an istiod release, at the chart version it already runs. A release that takes tags over
 * adopts their objects (--take-ownership); precheck-old is the old release's upgrade as a dry run.
 */
export function setRevisionTagsJob(ctx: HelmJobContext, purpose: 'tag-new' | 'tag-old' | 'rollback-tag-old' | 'rollback-tag-new' | 'precheck-old', at: ReleaseAt, tags: readonly string[]): RunInstallerJob {
  const takesOver = purpose === 'tag-new' || purpose === 'rollback-tag-old';
  const args = [
    'upgrade',
    at.release,
    ...chartArgs(ctx.spec, 'istiod'),
    '--version',
    at.chartVersion,
    '--namespace',
    ctx.istioNamespace,
    '--reset-then-reuse-values',
    '--set',
    tagList(tags),
    ...(takesOver ? ['--take-ownership'] : []),
    ...(purpose === 'precheck-old' ? ['--dry-run'] : []),
  ];
  return helmJob(ctx, purpose, args);
}

export interface GatewayRelease {
  readonly index: number;
  readonly namespace: string;
  readonly release: string;
}

/** A gateway release moved to the target chart version (precheck: as a dry run). */
export function upgradeGatewayJob(ctx: HelmJobContext, gateway: GatewayRelease, dryRun: boolean): RunInstallerJob {
  const { spec } = ctx;
  const args = ['upgrade', gateway.release, ...chartArgs(spec, 'gateway'), '--version', spec.version, '--namespace', gateway.namespace, '--reset-then-reuse-values', ...(dryRun ? ['--dry-run'] : [])];
  return helmJob(ctx, dryRun ? `precheck-gw${gateway.index}` : `gw${gateway.index}`, args, spec.installer.helm.values.gateway);
}

/** Back to the release's previous Helm revision, the one before this upgrade's gateway Job. */
export function rollbackGatewayJob(ctx: HelmJobContext, gateway: GatewayRelease): RunInstallerJob {
  return helmJob(ctx, `rollback-gw${gateway.index}`, ['rollback', gateway.release, '--namespace', gateway.namespace]);
}

export function uninstallReleaseJob(ctx: HelmJobContext, purpose: 'uninstall' | 'uninstall-new', release: string): RunInstallerJob {
  return helmJob(ctx, purpose, ['uninstall', release, '--namespace', ctx.istioNamespace]);
}

export function gatewayReleases(spec: IstioUpgradeSpec): GatewayRelease[] {
  return spec.installer.helm.gateways.map((g, index) => ({ index, namespace: g.namespace, release: g.release }));
}

export function helmContext(draft: Pick<Draft, 'upgrade' | 'spec' | 'observed'>): HelmJobContext {
  return { upgrade: draft.upgrade.metadata, spec: draft.spec, istioNamespace: draft.observed.istioNamespace, allowedImages: draft.observed.allowedInstallerImages };
}
