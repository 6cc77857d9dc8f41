// The istioctl Jobs an upgrade runs: deterministic names (so a resumed operator finds, never repeats, them)
// and the exact istioctl command lines.
import { DEFAULT_ISTIO_NAMESPACE } from '../api/constants.ts';
import type { IstioUpgradeSpec } from '../api/schema.ts';
import type { InstallerPurpose, IstioctlPurpose, RunInstallerJob } from './actions.ts';
import { chooseInstallerImage } from './installer-images.ts';
import type { JobState } from './observed.ts';

export const OVERLAY_PATH = '/etc/istio-upgrade/overlay.yaml';

/** `<name>-<purpose>-<uid prefix>`, at most 63 characters (Job names become label values). */
export function installerJobName(upgradeName: string, uid: string, purpose: InstallerPurpose): string {
  const suffix = `-${purpose}-${uid.replaceAll('-', '').slice(0, 8)}`;
  const base = upgradeName.slice(0, 63 - suffix.length).replace(/[^a-z0-9-]/g, '-').replace(/-+$/, '');
  return `${base}${suffix}`;
}

export interface InstallerJobInput {
  readonly purpose: IstioctlPurpose;
  /** The revision installed, checked or removed. */
  readonly revision: string;
  readonly istioNamespace: string;
  /** `major.minor` of the running Istio, for `istioctl x precheck --from-version`. */
  readonly fromMinor?: string | undefined;
  /** The operator's --installer-images: a pinned entry makes the Job run that digest. */
  readonly allowedImages: readonly string[];
}

/**
 * The istioctl command line. `-i/--istioNamespace` is honoured by precheck and by uninstall's proxy check, but
 * install ignores it and uninstall selects what it deletes by the IstioOperator's metadata.namespace: both get
 * the namespace through the overlay file instead (when it is not the default).
 */
export function istioctlArgs(spec: IstioUpgradeSpec, input: InstallerJobInput, withOverlay: boolean): string[] {
  const namespace = ['--istioNamespace', input.istioNamespace];
  const overlay = withOverlay ? ['-f', OVERLAY_PATH] : [];
  switch (input.purpose) {
    case 'precheck':
      return ['x', 'precheck', '--revision', input.revision, ...(input.fromMinor === undefined ? [] : ['--from-version', input.fromMinor]), ...namespace];
    case 'install':
      return ['install', '-y', '--set', `revision=${input.revision}`, '--set', `profile=${spec.installer.istioctl.profile}`, ...overlay];
    case 'uninstall':
    case 'uninstall-new':
      return ['uninstall', '--revision', input.revision, '-y', ...overlay, ...namespace];
  }
}

/** The IstioOperator file passed with -f: the user's values (install) and a non-default namespace. */
function overlayFor(spec: IstioUpgradeSpec, input: InstallerJobInput): Record<string, unknown> | undefined {
  const values = input.purpose === 'install' ? spec.installer.istioctl.values : {};
  const customNamespace = input.istioNamespace !== DEFAULT_ISTIO_NAMESPACE && input.purpose !== 'precheck';
  if (Object.keys(values).length === 0 && !customNamespace) return undefined;
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    ...(customNamespace ? { metadata: { namespace: input.istioNamespace } } : {}),
    spec: values,
  };
}

/** The pinned reference when the allowlist has one; else repository:version (the precheck refused the rest). */
function installerImageReference(spec: IstioUpgradeSpec, allowed: readonly string[]): string {
  const choice = chooseInstallerImage(spec.installer.istioctl.image, spec.version, allowed);
  return choice.ok ? choice.reference : `${spec.installer.istioctl.image}:${spec.version}`;
}

export function installerJob(upgrade: { name: string; uid: string }, spec: IstioUpgradeSpec, input: InstallerJobInput): RunInstallerJob {
  const overlay = overlayFor(spec, input);
  return {
    type: 'runInstallerJob',
    tool: 'istioctl',
    purpose: input.purpose,
    jobName: installerJobName(upgrade.name, upgrade.uid, input.purpose),
    image: installerImageReference(spec, input.allowedImages),
    args: istioctlArgs(spec, input, overlay !== undefined),
    overlay,
  };
}

export function findJob(jobs: readonly JobState[], name: string): JobState | undefined {
  return jobs.find((j) => j.name === name);
}
