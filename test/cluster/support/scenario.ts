// What every end-to-end scenario shares: the upgrade spec of the sample mesh, exporter control, snapshots
// of workload generations (a restart bumps the pod template, so the generation says how often it happened).
import type { IstioUpgradeSpecInput } from '../../../src/api/schema.ts';
import { APP_NAMESPACES, GATEWAY, SAMPLE_WORKLOADS } from './mesh.ts';
import type { Kube } from './kube.ts';

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
export async function generations(kube: Kube): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const key of SAMPLE_WORKLOADS) {
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
