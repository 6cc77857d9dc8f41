// Gathers the planner's ObservedState from the informer caches (and Prometheus while a soak is due).
import type { V1Job, V1ReplicaSet } from '@kubernetes/client-node';
import { ISTIO_REV_LABEL, UPGRADE_LABEL } from '../api/constants.ts';
import { IstioUpgradeSchema, type IstioUpgrade } from '../api/schema.ts';
import type { MetricsSample, ObservedState, PodState, RevisionState, UpgradeSummary, WorkloadKind, WorkloadState } from '../core/observed.ts';
import { soakQueries } from '../core/soak.ts';
import type { Caches } from './caches.ts';
import { queryPrometheus } from './prometheus.ts';
import { jobOutcome, toPodState, toRevisionState, toWebhookConfiguration, toWorkloadState, workloadOwnerKey } from './to-observed.ts';

export interface ObserveContext {
  readonly caches: Caches;
  readonly istioNamespace: string;
  readonly installerNamespace: string;
  readonly kubernetesVersion: string;
  readonly query?: typeof queryPrometheus;
}

function keyed<T extends { metadata?: { namespace?: string; name?: string } }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [`${i.metadata?.namespace ?? ''}/${i.metadata?.name ?? ''}`, i]));
}

function summaries(ctx: ObserveContext, self: IstioUpgrade): UpgradeSummary[] {
  return ctx.caches.upgrades.list().flatMap((raw) => {
    const uid = raw.metadata?.uid;
    if (uid === undefined || uid === self.metadata.uid) return [];
    const spec = raw.spec as { tag?: unknown } | undefined;
    const status = raw.status as { phase?: unknown } | undefined;
    return [{
      name: raw.metadata?.name ?? '',
      uid,
      tag: typeof spec?.tag === 'string' ? spec.tag : 'default',
      phase: typeof status?.phase === 'string' ? status.phase : undefined,
      creationTimestamp: String(raw.metadata?.creationTimestamp ?? ''),
    }];
  });
}

function revisions(ctx: ObserveContext): RevisionState[] {
  const services = new Set(ctx.caches.services.list(ctx.istioNamespace).map((s) => s.metadata?.name));
  return ctx.caches.deployments
    .list(ctx.istioNamespace)
    .filter((d) => d.metadata?.labels?.app === 'istiod' && d.metadata.labels[ISTIO_REV_LABEL] !== undefined)
    .flatMap((d) => {
      const state = toRevisionState(d);
      return state === undefined ? [] : [{ ...state, serviceExists: services.has(`istiod-${state.revision}`) }];
    });
}

function workloadsAndPods(ctx: ObserveContext, jobs: ReadonlyMap<string, V1Job>): { workloads: WorkloadState[]; otherPods: PodState[] } {
  const replicaSets: ReadonlyMap<string, V1ReplicaSet> = keyed(ctx.caches.replicaSets.list());
  const podsByOwner = new Map<string, PodState[]>();
  const otherPods: PodState[] = [];
  for (const pod of ctx.caches.pods.list()) {
    const state = toPodState(pod, jobs);
    const owner = workloadOwnerKey(pod, replicaSets);
    if (owner === undefined) otherPods.push(state);
    else podsByOwner.set(owner, [...(podsByOwner.get(owner) ?? []), state]);
  }
  const collect = (kind: WorkloadKind, items: readonly Parameters<typeof toWorkloadState>[1][]) =>
    items.map((w) => toWorkloadState(kind, w, podsByOwner.get(`${kind}/${w.metadata?.namespace ?? ''}/${w.metadata?.name ?? ''}`) ?? []));
  return {
    workloads: [
      ...collect('Deployment', ctx.caches.deployments.list()),
      ...collect('StatefulSet', ctx.caches.statefulSets.list()),
      ...collect('DaemonSet', ctx.caches.daemonSets.list()),
    ],
    otherPods,
  };
}

function installerJobs(ctx: ObserveContext, upgrade: IstioUpgrade): ObservedState['jobs'] {
  const pods = ctx.caches.pods.list(ctx.installerNamespace);
  return ctx.caches.jobs
    .list(ctx.installerNamespace)
    .filter((j) => j.metadata?.labels?.[UPGRADE_LABEL] === upgrade.metadata.uid)
    .map((job) => ({
      name: job.metadata?.name ?? '',
      ...jobOutcome(job, pods.filter((p) => p.metadata?.labels?.['job-name'] === job.metadata?.name)),
    }));
}

async function metrics(ctx: ObserveContext, upgrade: IstioUpgrade, now: Date): Promise<MetricsSample | undefined> {
  const due = soakQueries(upgrade, now);
  if (due === undefined) return undefined;
  const query = ctx.query ?? queryPrometheus;
  const readings = await Promise.all(due.queries.map((q) => query(due.address, q)));
  return { target: due.target, readings };
}

export async function observe(ctx: ObserveContext, upgrade: IstioUpgrade, now: Date): Promise<ObservedState> {
  const jobs = keyed(ctx.caches.jobs.list());
  const { workloads, otherPods } = workloadsAndPods(ctx, jobs);
  return {
    kubernetesVersion: ctx.kubernetesVersion,
    istioNamespace: ctx.istioNamespace,
    otherUpgrades: summaries(ctx, upgrade),
    revisions: revisions(ctx),
    mutatingWebhooks: ctx.caches.mutatingWebhooks.list().map(toWebhookConfiguration),
    validatingWebhooks: ctx.caches.validatingWebhooks.list().map(toWebhookConfiguration),
    namespaces: ctx.caches.namespaces.list().map((n) => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} })),
    workloads,
    otherPods,
    jobs: installerJobs(ctx, upgrade),
    metrics: await metrics(ctx, upgrade, now),
  };
}

/** Parses a cached IstioUpgrade (defaults applied); a schema error names the offending field. */
export function parseUpgrade(raw: unknown): { ok: true; upgrade: IstioUpgrade } | { ok: false; message: string } {
  const result = IstioUpgradeSchema.safeParse(raw);
  if (result.success) return { ok: true, upgrade: result.data };
  return { ok: false, message: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}
