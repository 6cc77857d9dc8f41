// Creating, reading and waiting for IstioUpgrades (end-to-end harness: test/cluster and npm run demo).
import { API_GROUP, API_VERSION, PLURAL } from '../../src/api/constants.ts';
import type { IstioUpgradeSpecInput, IstioUpgradeStatus, Phase } from '../../src/api/schema.ts';
import { ignoreNotFound, kubectl, waitFor, type Kube } from './kube.ts';

export interface LiveUpgrade {
  metadata: { name: string; uid: string; generation: number; annotations?: Record<string, string> };
  spec: IstioUpgradeSpecInput;
  status?: IstioUpgradeStatus;
}

const ref = { group: API_GROUP, version: API_VERSION, plural: PLURAL };

export async function createUpgrade(kube: Kube, name: string, spec: IstioUpgradeSpecInput): Promise<LiveUpgrade> {
  return (await kube.custom.createClusterCustomObject({ ...ref, body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'IstioUpgrade', metadata: { name }, spec } })) as LiveUpgrade;
}

export async function getUpgrade(kube: Kube, name: string): Promise<LiveUpgrade> {
  return (await kube.custom.getClusterCustomObject({ ...ref, name })) as LiveUpgrade;
}

export async function deleteAllUpgrades(kube: Kube): Promise<void> {
  await kubectl(kube, ['delete', 'istioupgrades', '--all', '--wait=true', '--timeout=60s']).catch(() => undefined);
}

export async function deleteUpgrade(kube: Kube, name: string): Promise<void> {
  await ignoreNotFound(() => kube.custom.deleteClusterCustomObject({ ...ref, name }));
}

export function condition(upgrade: LiveUpgrade, type: string): { status: string; reason: string; message: string } | undefined {
  return upgrade.status?.conditions?.find((c) => c.type === type);
}

export async function waitForPhase(kube: Kube, name: string, phases: readonly Phase[], timeoutMs = 600_000): Promise<LiveUpgrade> {
  return waitFor(`${name} in ${phases.join('|')}`, async () => {
    const upgrade = await getUpgrade(kube, name);
    return upgrade.status?.phase !== undefined && phases.includes(upgrade.status.phase) ? upgrade : undefined;
  }, timeoutMs, 1000);
}

export async function waitForUpgrade(kube: Kube, name: string, check: (u: LiveUpgrade) => boolean, what: string, timeoutMs = 600_000): Promise<LiveUpgrade> {
  return waitFor(`${name}: ${what}`, async () => {
    const upgrade = await getUpgrade(kube, name);
    return check(upgrade) ? upgrade : undefined;
  }, timeoutMs, 1000);
}

export async function patchUpgrade(kube: Kube, name: string, patch: object): Promise<void> {
  await kubectl(kube, ['patch', 'istioupgrade', name, '--type=merge', '-p', JSON.stringify(patch)]);
}

/** One line for a closing report: end phase, restarted/skipped counts and the plan's blockers. */
export function outcomeSummary(upgrade: LiveUpgrade): string {
  const status = upgrade.status;
  const workloads = status?.workloads;
  const blockers = status?.plan?.blockers?.length ?? 0;
  return `${upgrade.metadata.name}: phase ${status?.phase ?? '?'}, restarted ${workloads?.upgraded ?? 0}/${workloads?.total ?? 0}, skipped ${workloads?.skipped ?? 0} (plan: ${status?.plan?.skippedCount ?? 0}), blockers ${blockers}`;
}
