// Creates a short-lived pod in a namespace on the tag every second and records whether the API server
// admitted it and the real istiod injected it: during an upgrade, injection must never break.
import type { V1Pod } from '@kubernetes/client-node';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { podRevision } from './mesh.ts';
import { ignoreNotFound, sleep, type Kube } from './kube.ts';

export const PROBE_NAMESPACE = 'probe';

export interface ProbeReport {
  created: number;
  rejected: string[];
  notInjected: string[];
  revisions: Record<string, number>;
}

export class InjectionProbe {
  readonly report: ProbeReport = { created: 0, rejected: [], notInjected: [], revisions: {} };
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly kube: Kube;

  constructor(kube: Kube) {
    this.kube = kube;
  }

  async start(): Promise<void> {
    await this.kube.core.createNamespace({ body: { metadata: { name: PROBE_NAMESPACE, labels: { [ISTIO_REV_LABEL]: 'default' } } } }).catch(() => undefined);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<ProbeReport> {
    this.running = false;
    await this.loop;
    return this.report;
  }

  private async run(): Promise<void> {
    let i = 0;
    while (this.running) {
      const started = Date.now();
      const name = `probe-${Date.now().toString(36)}-${i++}`;
      try {
        const pod: V1Pod = await this.kube.core.createNamespacedPod({
          namespace: PROBE_NAMESPACE,
          body: { metadata: { name }, spec: { terminationGracePeriodSeconds: 0, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'probe', image: 'registry.example/probe:1' }] } },
        });
        this.report.created += 1;
        const revision = podRevision(pod);
        const injected = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === 'istio-proxy');
        if (revision === undefined || !injected) this.report.notInjected.push(name);
        else this.report.revisions[revision] = (this.report.revisions[revision] ?? 0) + 1;
        await ignoreNotFound(() => this.kube.core.deleteNamespacedPod({ name, namespace: PROBE_NAMESPACE, gracePeriodSeconds: 0 }));
      } catch (error) {
        this.report.rejected.push(`${name}: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`);
      }
      await sleep(Math.max(0, 1000 - (Date.now() - started)));
    }
  }
}
