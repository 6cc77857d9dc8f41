// Gathers the planner's ObservedState from the informer caches, and takes the soak measurements the planner
// asked for. The caches already hold reduced objects, so this is joining, not parsing.
import type { z } from 'zod';
import { UPGRADE_LABEL } from '../api/constants.ts';
import { peekUpgrade } from '../api/peek-upgrade.ts';
import { IstioUpgradeSchema, type IstioUpgrade } from '../api/schema.ts';
import type { MetricsSample, NamespaceEpochs, NamespaceObjects, ObservedState, PodState, RevisionState, UpgradeSummary, WorkloadKind, WorkloadState } from '../core/observed.ts';
import { DEFAULT_INSTALLER_IMAGES } from '../core/installer-images.ts';
import { NamespaceEpochLog } from '../core/namespace-epochs.ts';
import { soakRequests } from '../core/soak.ts';
import type { Caches } from './caches.ts';
import { readSoak } from './metrics/index.ts';
import { jobOutcome, toRevisionState, type JobFacts } from './to-observed.ts';
import { WORKLOADS } from './workloads/index.ts';
import { ownerKeyOf, podStateOf, withPodsRemembered } from './remembered-joins.ts';

export interface ObserveContext {
  readonly caches: Caches;
  readonly istioNamespace: string;
  readonly installerNamespace: string;
  readonly kubernetesVersion: string;
  /** Installer images IstioUpgrades may choose (default: DEFAULT_INSTALLER_IMAGES). */
  readonly allowedInstallerImages?: readonly string[];
  /** Replaces the soak providers (tests). */
  readonly readSoak?: typeof readSoak;
}

function isWorkloadKind(kind: string): kind is WorkloadKind {
  return Object.hasOwn(WORKLOADS, kind);
}

function summaries(ctx: ObserveContext, self: IstioUpgrade): UpgradeSummary[] {
  return ctx.caches.upgrades.list().flatMap((raw) => {
    const peek = peekUpgrade(raw);
    if (peek === undefined || peek.uid === self.metadata.uid) return [];
    return [peek];
  });
}

function revisions(workloads: readonly WorkloadState[]): RevisionState[] {
  return workloads
    .filter((w) => w.kind === 'Deployment' && w.labels.app === 'istiod')
    .flatMap((w) => {
      const state = toRevisionState(w);
      return state === undefined ? [] : [state];
    });
}

/** One namespace's workloads joined with their pods, and its pods that belong to no workload. */
function joinNamespace(caches: Caches, namespace: string): NamespaceObjects {
  const job = (ns: string, name: string): JobFacts | undefined => caches.jobs.get(name, ns);
  const replicaSet = (ns: string, name: string) => caches.replicaSets.get(name, ns);
  const podsByOwner = new Map<string, PodState[]>();
  const otherPods: PodState[] = [];
  for (const facts of caches.pods.list(namespace)) {
    const pod = podStateOf(facts, job);
    const owner = ownerKeyOf(facts, replicaSet, isWorkloadKind);
    if (owner === undefined) otherPods.push(pod);
    else {
      const list = podsByOwner.get(owner);
      if (list === undefined) podsByOwner.set(owner, [pod]);
      else list.push(pod);
    }
  }
  return { workloads: caches.workloads.flatMap((source) => source.facts(namespace).map((w) => withPodsRemembered(w, podsByOwner))), otherPods };
}

/** The joins kept for live caches: namespace -> its objects, and the epochs of their changes. */
interface JoinedNamespaces {
  readonly byNamespace: Map<string, NamespaceObjects>;
  readonly epochs: NamespaceEpochLog;
}

const joinedByCaches = new WeakMap<Caches, JoinedNamespaces>();

function isEmpty(objects: NamespaceObjects): boolean {
  return objects.workloads.length === 0 && objects.otherPods.length === 0;
}

/**
 * Every workload with its pods, and the pods of no workload, by namespace; the flat lists in namespace name
 * order. With change tracking, only the namespaces whose objects changed since the last call are joined again;
 * the others keep their arrays, and the epochs name the changed ones: a pass then costs what changed, not the
 * size of the mesh, here and in the planner.
 */
export function workloadsAndPods(ctx: Pick<ObserveContext, 'caches'>): {
  readonly workloads: readonly WorkloadState[];
  readonly otherPods: readonly PodState[];
  readonly byNamespace: Map<string, NamespaceObjects>;
  readonly namespaceEpochs: NamespaceEpochs | undefined;
} {
  const { caches } = ctx;
  const changes = caches.namespaceChanges;
  let byNamespace: Map<string, NamespaceObjects>;
  let namespaceEpochs: NamespaceEpochs | undefined;
  if (changes === undefined) {
    const names = new Set([...caches.pods.list().map((p) => p.namespace), ...caches.workloads.flatMap((s) => s.facts().map((w) => w.namespace))]);
    byNamespace = new Map([...names].map((namespace) => [namespace, joinNamespace(caches, namespace)]));
  } else {
    let state = joinedByCaches.get(caches);
    if (state === undefined) {
      state = { byNamespace: new Map(), epochs: new NamespaceEpochLog() };
      joinedByCaches.set(caches, state);
    }
    const changed = changes.takeChanged();
    for (const namespace of changed) {
      const joined = joinNamespace(caches, namespace);
      if (isEmpty(joined)) state.byNamespace.delete(namespace);
      else state.byNamespace.set(namespace, joined);
    }
    state.epochs.record(changed);
    // This pass's copy: the next observation changes the kept map, not what this pass was given.
    byNamespace = new Map(state.byNamespace);
    namespaceEpochs = state.epochs;
  }
  // The flat lists only when a step asks (most passes of a rollout read a few namespaces through byNamespace).
  let workloads: WorkloadState[] | undefined;
  let otherPods: PodState[] | undefined;
  const inOrder = (): NamespaceObjects[] => [...byNamespace.keys()].sort().map((namespace) => byNamespace.get(namespace) ?? { workloads: [], otherPods: [] });
  return {
    byNamespace,
    namespaceEpochs,
    get workloads() {
      workloads ??= inOrder().flatMap((n) => n.workloads);
      return workloads;
    },
    get otherPods() {
      otherPods ??= inOrder().flatMap((n) => n.otherPods);
      return otherPods;
    },
  };
}

function installerJobs(ctx: ObserveContext, upgrade: IstioUpgrade): ObservedState['jobs'] {
  const pods = ctx.caches.pods.list(ctx.installerNamespace);
  return ctx.caches.jobs
    .list(ctx.installerNamespace)
    .filter((j) => j.labels[UPGRADE_LABEL] === upgrade.metadata.uid)
    .map((job) => ({ name: job.name, ...jobOutcome(job, pods.filter((p) => p.labels['job-name'] === job.name)) }));
}

function installerAccess(ctx: ObserveContext): ObservedState['installerAccess'] {
  const binding = ctx.caches.installerBindings.list()[0];
  return binding === undefined ? undefined : { grantedFor: binding.grantedFor };
}

async function metrics(ctx: ObserveContext, upgrade: IstioUpgrade, observed: Omit<ObservedState, 'metrics'>, now: Date): Promise<MetricsSample | undefined> {
  const requests = soakRequests(upgrade, now);
  const first = requests[0];
  if (first === undefined) return undefined;
  const readings = await (ctx.readSoak ?? readSoak)(requests, { observed, now });
  return { target: first.target, readings };
}

/** All a terminal upgrade still needs: whether the installer holds a binding granted for one of its Jobs. */
export function observeInstallerGrant(ctx: ObserveContext, upgrade: IstioUpgrade): Pick<ObservedState, 'installerAccess' | 'jobs'> {
  return { installerAccess: installerAccess(ctx), jobs: installerJobs(ctx, upgrade) };
}

export async function observe(ctx: ObserveContext, upgrade: IstioUpgrade, now: Date): Promise<ObservedState> {
  const observed = observeCluster(ctx, upgrade);
  // Set, not spread: a spread would build the flat workload lists that the pass may never need.
  observed.metrics = await metrics(ctx, upgrade, observed, now);
  return observed;
}

function observeCluster(ctx: ObserveContext, upgrade: IstioUpgrade): Omit<ObservedState, 'metrics'> & { metrics: MetricsSample | undefined } {
  const joined = workloadsAndPods(ctx);
  const byNamespace = joined.byNamespace;
  return {
    kubernetesVersion: ctx.kubernetesVersion,
    allowedInstallerImages: ctx.allowedInstallerImages ?? DEFAULT_INSTALLER_IMAGES,
    istioNamespace: ctx.istioNamespace,
    otherUpgrades: summaries(ctx, upgrade),
    revisions: revisions(byNamespace.get(ctx.istioNamespace)?.workloads ?? []),
    mutatingWebhooks: ctx.caches.mutatingWebhooks.list(),
    validatingWebhooks: ctx.caches.validatingWebhooks.list(),
    services: ctx.caches.services.list(),
    namespaces: ctx.caches.namespaces.list(),
    get workloads() {
      return joined.workloads;
    },
    get otherPods() {
      return joined.otherPods;
    },
    byNamespace,
    ...(joined.namespaceEpochs === undefined ? {} : { namespaceEpochs: joined.namespaceEpochs }),
    jobs: installerJobs(ctx, upgrade),
    installerAccess: installerAccess(ctx),
    metrics: undefined,
  };
}

const WithoutSpecSchema = IstioUpgradeSchema.omit({ spec: true });
export type UpgradeWithoutSpec = z.infer<typeof WithoutSpecSchema>;

/** The metadata and status of an IstioUpgrade whose spec does not parse, to report that on its status. */
export function parseWithoutSpec(raw: unknown): UpgradeWithoutSpec | undefined {
  const result = WithoutSpecSchema.safeParse(raw);
  return result.success ? result.data : undefined;
}

/** Parses a cached IstioUpgrade (defaults applied); a schema error names the offending field. */
export function parseUpgrade(raw: unknown): { ok: true; upgrade: IstioUpgrade } | { ok: false; message: string } {
  const result = IstioUpgradeSchema.safeParse(raw);
  if (result.success) return { ok: true, upgrade: result.data };
  return { ok: false, message: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}
