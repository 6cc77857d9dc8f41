// What every end-to-end scenario shares: the upgrade spec of the sample mesh, exporter control, snapshots
// of workload generations (a restart bumps the pod template, so the generation says how often it happened).
import type { IstioUpgradeSpecInput } from '../../src/api/schema.ts';
import { APP_NAMESPACES, GATEWAY, SAMPLE_WORKLOADS, resetMesh } from './mesh.ts';
import { connect, type Kube } from './kube.ts';
import { OperatorProcess, installOperatorManifests } from './operator.ts';
import { deleteAllUpgrades } from './upgrades.ts';

export const ERROR_RATIO_QUERY =
  'sum(rate(istio_requests_total{response_code=~"5..",destination_workload_namespace=~"{{namespaces}}"}[10s])) / sum(rate(istio_requests_total{destination_workload_namespace=~"{{namespaces}}"}[10s]))';

export function sampleSpec(kube: Kube, overrides: Partial<IstioUpgradeSpecInput> = {}): IstioUpgradeSpecInput {
  return {
    version: kube.info.versions.istioNew,
    gateways: [{ ...GATEWAY }],
    rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 2 }], workloadTimeout: '3m' },
    soak: {
      duration: '10s',
      prometheus: { address: kube.info.prometheusUrl, interval: '3s', failureLimit: 0, checks: [{ name: 'error-ratio', query: ERROR_RATIO_QUERY, max: 0.01 }] },
    },
    uninstall: { gracePeriod: '5s' },
    ...overrides,
  };
}

export async function setErrorRatio(kube: Kube, namespace: string, value: number): Promise<void> {
  const response = await fetch(`${kube.info.exporterUrl}/ratio?namespace=${namespace}&value=${value}`, { method: 'POST' });
  if (!response.ok) throw new Error(`exporter: ${response.status} ${await response.text()}`);
}

export async function resetExporter(kube: Kube): Promise<void> {
  await fetch(`${kube.info.exporterUrl}/reset`, { method: 'POST' });
}

/** metadata.generation of every sample workload, by kind/namespace/name. */
export async function generations(kube: Kube, workloads: readonly string[] = SAMPLE_WORKLOADS): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const key of workloads) {
    const [kind, namespace = '', name = ''] = key.split('/');
    const object =
      kind === 'Deployment'
        ? await kube.apps.readNamespacedDeployment({ name, namespace })
        : kind === 'StatefulSet'
          ? await kube.apps.readNamespacedStatefulSet({ name, namespace })
          : await kube.apps.readNamespacedDaemonSet({ name, namespace });
    out.set(key, object.metadata?.generation ?? 0);
  }
  return out;
}

export { APP_NAMESPACES };

/**
 * The starting point of every scenario: no IstioUpgrade, the operator's CRD and RBAC applied, the sample mesh
 * fresh on the old revision (installed by `reset`: istioctl by default, resetHelmMesh for helm mode), the
 * exporter at 0 % errors, and an operator (not yet started) as cluster admin.
 */
export async function freshScenario(identity: string, reset: (kube: Kube) => Promise<void> = resetMesh): Promise<{ kube: Kube; operator: OperatorProcess }> {
  const kube = await connect();
  await deleteAllUpgrades(kube);
  await installOperatorManifests(kube);
  await reset(kube);
  await resetExporter(kube);
  return { kube, operator: new OperatorProcess(kube, { kubeconfig: kube.info.kubeconfigPath, identity }) };
}
