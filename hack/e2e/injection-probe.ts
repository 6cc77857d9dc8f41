// Creates a short-lived pod every second in each probe namespace and records whether the API server admitted
// it and the real istiod injected it: during an upgrade, injection must never break. Each pod is also checked
// against the revision its namespace's injector pointed at when it was created (read just before and just
// after): a pod injected by any other revision is a "wrong revision" (e.g. the new one before the tag switch).
import type { V1Pod } from '@kubernetes/client-node';
import { ISTIO_REV_LABEL, ISTIO_TAG_LABEL } from '../../src/api/constants.ts';
import { podRevision } from './mesh.ts';
import { ignoreNotFound, sleep, type Kube } from './kube.ts';

export const PROBE_NAMESPACE = 'probe';

export interface ProbeNamespace {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A probe namespace injected through a tag; labelled as a shape namespace, so resetMesh removes it. */
export function tagProbeNamespace(tag = 'default'): ProbeNamespace {
  return { name: `probe-${tag}`, labels: { [ISTIO_REV_LABEL]: tag, 'iuo.test/shape': 'probe' } };
}

export interface ProbeReport {
  created: number;
  rejected: string[];
  notInjected: string[];
  /** Pods injected by another revision than their namespace's injector pointed at, at that moment. */
  wrongRevision: string[];
  revisions: Record<string, number>;
}

/** Which revision injects a namespace with these labels now: its tag's, or the non-revisioned injector's. */
async function expectedRevision(kube: Kube, labels: Readonly<Record<string, string>>): Promise<string | undefined> {
  const tag = labels['istio-injection'] === 'enabled' ? 'default' : labels[ISTIO_REV_LABEL];
  if (tag === undefined) return undefined;
  const tagged = await kube.admission.listMutatingWebhookConfiguration({ labelSelector: `${ISTIO_TAG_LABEL}=${tag}` });
  const viaTag = tagged.items[0]?.metadata?.labels?.[ISTIO_REV_LABEL];
  if (viaTag !== undefined) return viaTag;
  // No such tag: the namespace label names a revision itself, or (default) the non-revisioned injector serves it.
  return tag === 'default' ? 'default' : tag;
}

/** One line for the test output: pods created, by revision, and each kind of failure. */
export function probeSummary(report: ProbeReport): string {
  return `${report.created} pods, revisions ${JSON.stringify(report.revisions)}, rejected ${report.rejected.length}, not injected ${report.notInjected.length}, wrong revision ${report.wrongRevision.length}`;
}

export class InjectionProbe {
  readonly report: ProbeReport = { created: 0, rejected: [], notInjected: [], wrongRevision: [], revisions: {} };
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly kube: Kube;
  private readonly namespaces: readonly ProbeNamespace[];

  constructor(kube: Kube, namespaces: readonly ProbeNamespace[] = [{ name: PROBE_NAMESPACE, labels: { [ISTIO_REV_LABEL]: 'default' } }]) {
    this.kube = kube;
    this.namespaces = namespaces;
  }

  async start(): Promise<void> {
    for (const ns of this.namespaces) {
      await this.kube.core.createNamespace({ body: { metadata: { name: ns.name, labels: { ...ns.labels } } } }).catch(() => undefined);
    }
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<ProbeReport> {
    this.running = false;
    await this.loop;
    return this.report;
  }

  private async probe(ns: ProbeNamespace, name: string): Promise<void> {
    try {
      const before = await expectedRevision(this.kube, ns.labels);
      const pod: V1Pod = await this.kube.core.createNamespacedPod({
        namespace: ns.name,
        body: { metadata: { name }, spec: { terminationGracePeriodSeconds: 0, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'probe', image: 'registry.example/probe:1' }] } },
      });
      const after = await expectedRevision(this.kube, ns.labels);
      this.report.created += 1;
      const revision = podRevision(pod);
      const injected = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === 'istio-proxy');
      if (revision === undefined || !injected) this.report.notInjected.push(`${ns.name}/${name}`);
      else {
        this.report.revisions[revision] = (this.report.revisions[revision] ?? 0) + 1;
        if (before === after && before !== undefined && revision !== before) this.report.wrongRevision.push(`${ns.name}/${name}: ${revision}, expected ${before}`);
      }
      await ignoreNotFound(() => this.kube.core.deleteNamespacedPod({ name, namespace: ns.name, gracePeriodSeconds: 0 }));
    } catch (error) {
      this.report.rejected.push(`${ns.name}/${name}: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`);
    }
  }

  private async run(): Promise<void> {
    let i = 0;
    while (this.running) {
      const started = Date.now();
      for (const ns of this.namespaces) await this.probe(ns, `probe-${Date.now().toString(36)}-${i++}`);
      await sleep(Math.max(0, 1000 - (Date.now() - started)));
    }
  }
}
