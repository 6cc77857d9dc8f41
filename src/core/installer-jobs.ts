// The istioctl Jobs an upgrade runs: deterministic names (so a resumed operator finds, never repeats, them)
// and the exact istioctl command lines.
import type { IstioUpgradeSpec } from '../api/schema.ts';
import type { InstallerPurpose, RunInstallerJob } from './actions.ts';
import type { JobState } from './observed.ts';

export const OVERLAY_PATH = '/etc/istio-upgrade/overlay.yaml';

/** `<name>-<purpose>-<uid prefix>`, at most 63 characters (Job names become label values). */
export function installerJobName(upgradeName: string, uid: string, purpose: InstallerPurpose): string {
  const suffix = `-${purpose}-${uid.replaceAll('-', '').slice(0, 8)}`;
  const base = upgradeName.slice(0, 63 - suffix.length).replace(/[^a-z0-9-]/g, '-').replace(/-+$/, '');
  return `${base}${suffix}`;
}

export function istioctlArgs(purpose: InstallerPurpose, spec: IstioUpgradeSpec, revision: string, withOverlay: boolean): string[] {
  switch (purpose) {
    case 'precheck':
      return ['x', 'precheck', '--revision', revision];
    case 'install':
      return [
        'install',
        '-y',
        '--set',
        `revision=${revision}`,
        '--set',
        `profile=${spec.installer.istioctl.profile}`,
        ...(withOverlay ? ['-f', OVERLAY_PATH] : []),
      ];
    case 'uninstall':
      return ['uninstall', '--revision', revision, '-y'];
  }
}

export function installerJob(
  upgrade: { name: string; uid: string },
  spec: IstioUpgradeSpec,
  purpose: InstallerPurpose,
  revision: string,
): RunInstallerJob {
  const values = spec.installer.istioctl.values;
  const overlay = purpose === 'install' && Object.keys(values).length > 0 ? { apiVersion: 'install.istio.io/v1alpha1', kind: 'IstioOperator', spec: values } : undefined;
  return {
    type: 'runInstallerJob',
    purpose,
    jobName: installerJobName(upgrade.name, upgrade.uid, purpose),
    image: `${spec.installer.istioctl.image}:${spec.version}`,
    args: istioctlArgs(purpose, spec, revision, overlay !== undefined),
    overlay,
  };
}

export function findJob(jobs: readonly JobState[], name: string): JobState | undefined {
  return jobs.find((j) => j.name === name);
}
