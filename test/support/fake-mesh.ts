// An in-memory stand-in for the cluster, for pure planner tests only: it applies the planner's actions to an
// ObservedState the way the cluster would (Jobs succeed, the tag webhook moves, restarted workloads come
// back injected by whatever revision the tag points at), and counts what was done.
import { ISTIO_REV_LABEL, ISTIO_TAG_LABEL, RESTARTED_AT_ANNOTATION, RESTARTED_FOR_ANNOTATION } from '../../src/api/constants.ts';
import type { IstioUpgrade } from '../../src/api/schema.ts';
import type { Action } from '../../src/core/actions.ts';
import type { JobState, ObservedState, WebhookConfiguration } from '../../src/core/observed.ts';
import { plan, isTerminal, type PlanResult } from '../../src/core/plan.ts';
import { soakNamespaces, soakQueries } from '../../src/core/soak.ts';
import type { MetricsSample } from '../../src/core/observed.ts';
import type { TagWebhook } from '../../src/core/tag-webhook.ts';
import { workloadKey } from '../../src/core/workloads.ts';
import { NEW, OLD, injectorWebhook, pod, revisionState } from './fixtures.ts';

export interface FakeMeshOptions {
  /** Outcome of installer Jobs by purpose (default: Succeeded). */
  readonly jobOutcome?: Partial<Record<'precheck' | 'install' | 'uninstall', JobState['outcome']>>;
  readonly jobMessage?: string;
  /** Workloads (kind/ns/name) whose rollout never completes on the new revision (say, its proxy crashes). */
  readonly stuck?: ReadonlySet<string>;
  /** Workloads whose rollout never completes at all, whatever the revision. */
  readonly stuckAlways?: ReadonlySet<string>;
  /** Tag webhook writes that are accepted but have no effect (e.g. another writer reverts them). */
  readonly tagWritesIgnored?: boolean;
}

export function webhookFromObject(object: TagWebhook['mutating']): WebhookConfiguration {
  return {
    name: object.metadata.name,
    labels: object.metadata.labels,
    annotations: object.metadata.annotations ?? {},
    webhooks: object.webhooks.map((w) => ({ name: w.name, clientConfig: w.clientConfig, reinvocationPolicy: w.reinvocationPolicy, failurePolicy: w.failurePolicy })),
  };
}

export class FakeMesh {
  observed: ObservedState;
  readonly restarts = new Map<string, number>();
  readonly jobRuns = new Map<string, number>();
  readonly tagWrites: string[] = [];
  private readonly options: FakeMeshOptions;

  constructor(observed: ObservedState, options: FakeMeshOptions = {}) {
    this.observed = observed;
    this.options = options;
  }

  tagRevision(tag = 'default'): string | undefined {
    return this.observed.mutatingWebhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === tag)?.labels[ISTIO_REV_LABEL];
  }

  apply(action: Action, now: Date): void {
    const o = this.observed;
    switch (action.type) {
      case 'runInstallerJob': {
        this.jobRuns.set(action.jobName, (this.jobRuns.get(action.jobName) ?? 0) + 1);
        if (o.jobs.some((j) => j.name === action.jobName)) return; // create is idempotent: AlreadyExists
        const outcome = this.options.jobOutcome?.[action.purpose] ?? 'Succeeded';
        const job: JobState = { name: action.jobName, outcome, message: outcome === 'Failed' ? (this.options.jobMessage ?? 'boom') : undefined, completedAt: now.toISOString() };
        let next: ObservedState = { ...o, jobs: [...o.jobs, job] };
        if (outcome === 'Succeeded' && action.purpose === 'install') {
          const rev = action.args[action.args.indexOf('--set') + 1]?.replace('revision=', '') ?? NEW.revision;
          next = { ...next, revisions: [...next.revisions, revisionState(rev, NEW.version)], mutatingWebhooks: [...next.mutatingWebhooks, injectorWebhook(rev)] };
        }
        if (outcome === 'Succeeded' && action.purpose === 'uninstall') {
          const rev = action.args[action.args.indexOf('--revision') + 1] ?? OLD.revision;
          // Like the real `istioctl uninstall --revision`: everything labelled with the revision goes, tags included.
          next = {
            ...next,
            revisions: next.revisions.filter((r) => r.revision !== rev),
            mutatingWebhooks: next.mutatingWebhooks.filter((w) => w.labels[ISTIO_REV_LABEL] !== rev),
          };
        }
        this.observed = next;
        return;
      }
      case 'applyTagWebhook': {
        this.tagWrites.push(action.revision);
        if (this.options.tagWritesIgnored === true) return;
        const webhook = webhookFromObject(action.webhook.mutating);
        this.observed = { ...o, mutatingWebhooks: [...o.mutatingWebhooks.filter((w) => w.name !== webhook.name), webhook] };
        return;
      }
      case 'restartWorkload': {
        const key = workloadKey(action);
        this.restarts.set(key, (this.restarts.get(key) ?? 0) + 1);
        const injected = this.tagRevision() ?? OLD.revision;
        const stuck = (this.options.stuckAlways?.has(key) ?? false) || (injected === NEW.revision && (this.options.stuck?.has(key) ?? false));
        this.observed = {
          ...o,
          workloads: o.workloads.map((w) => {
            if (workloadKey(w) !== key) return w;
            const desired = w.rollout.desired;
            return {
              ...w,
              templateAnnotations: { ...w.templateAnnotations, [RESTARTED_FOR_ANNOTATION]: action.stamp, [RESTARTED_AT_ANNOTATION]: action.restartedAt },
              rollout: stuck ? { ...w.rollout, generation: w.rollout.generation + 1 } : { ...w.rollout, generation: w.rollout.generation + 1, observedGeneration: w.rollout.generation + 1 },
              pods: stuck ? w.pods : Array.from({ length: desired }, (_, i) => pod(w.namespace, `${w.name}-${action.stamp.length}-${i}`, injected)),
            };
          }),
        };
        return;
      }
    }
  }
}

export interface WalkResult {
  readonly upgrade: IstioUpgrade;
  readonly passes: number;
  readonly phases: string[];
  readonly last: PlanResult;
  readonly now: Date;
}

export interface WalkOptions {
  readonly start?: Date;
  readonly maxPasses?: number;
  /** Called before each pass; may change the mesh or the upgrade (e.g. raise an error ratio). */
  readonly beforePass?: (pass: number, upgrade: IstioUpgrade, mesh: FakeMesh, now: Date) => IstioUpgrade | undefined;
  /** Simulate a crash after executing the actions of these passes: the status write is lost. */
  readonly crashAfterActions?: (pass: number) => boolean;
  readonly stopWhen?: (upgrade: IstioUpgrade) => boolean;
  /** Error ratio per namespace served to soak queries (default 0 everywhere). */
  readonly errorRatio?: (namespaces: readonly string[], upgrade: IstioUpgrade) => number;
}

/** Runs observe -> plan -> execute -> write status until the upgrade is terminal, advancing a fake clock. */
export function walk(initial: IstioUpgrade, mesh: FakeMesh, options: WalkOptions = {}): WalkResult {
  let upgrade = initial;
  let now = options.start ?? new Date('2026-11-22T10:00:00.000Z');
  const phases: string[] = [];
  let last: PlanResult | undefined;
  const maxPasses = options.maxPasses ?? 500;
  let pass = 0;
  for (; pass < maxPasses; pass++) {
    upgrade = options.beforePass?.(pass, upgrade, mesh, now) ?? upgrade;
    mesh.observed = { ...mesh.observed, metrics: sampleFor(upgrade, options.errorRatio) };
    last = plan(upgrade, mesh.observed, now);
    for (const action of last.actions) mesh.apply(action, now);
    if (!(options.crashAfterActions?.(pass) ?? false)) {
      upgrade = { ...upgrade, status: last.status };
      const phase = last.status.phase ?? 'Pending';
      if (phases.at(-1) !== phase) phases.push(phase);
    }
    if (isTerminal(upgrade.status.phase) || (options.stopWhen?.(upgrade) ?? false)) break;
    now = new Date(now.getTime() + Math.min(last.requeueAfterMs ?? 60_000, 60_000));
  }
  if (last === undefined) throw new Error('walk made no pass');
  return { upgrade, passes: pass + 1, phases, last, now };
}

/** What src/kube would read from Prometheus for the soak under way: every check returns the ratio. */
export function sampleFor(
  upgrade: IstioUpgrade,
  errorRatio: ((namespaces: readonly string[], upgrade: IstioUpgrade) => number) | undefined,
): MetricsSample | undefined {
  const queries = soakQueries(upgrade);
  if (queries === undefined) return undefined;
  const value = errorRatio?.(soakNamespaces(upgrade, queries.target), upgrade) ?? 0;
  return { target: queries.target, readings: queries.queries.map((q) => ({ name: q.name, kind: 'value' as const, value })) };
}
