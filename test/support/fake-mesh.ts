// An in-memory stand-in for the cluster, for pure planner tests only: it applies the planner's actions to an
// ObservedState the way the cluster would (Jobs succeed, istioctl install creates a default tag when none
// exists, tags move, restarted workloads come back injected by whatever injector their webhooks select, OnDelete
// workloads only replace evicted pods), and counts what was done. With `rolloutPasses`, a restart takes that
// many passes to complete, so a planner that forgets a restart was done would restart again.
import { ISTIO_REV_LABEL, ISTIO_TAG_LABEL, RESTARTED_AT_ANNOTATION, RESTARTED_FOR_ANNOTATION } from '../../src/api/constants.ts';
import type { IstioUpgrade } from '../../src/api/schema.ts';
import type { Action, InstallerPurpose, RunInstallerJob } from '../../src/core/actions.ts';
import { HELM_RESOURCE_POLICY_ANNOTATION, owningRelease } from '../../src/core/helm-release.ts';
import { deactivated, injectingConfigs } from '../../src/core/injection.ts';
import { defaultTagExists } from '../../src/core/injection-view.ts';
import { removedBy } from '../../src/core/inventory.ts';
import type { JobState, MetricReading, MetricsSample, ObservedState, PodState, WorkloadState } from '../../src/core/observed.ts';
import { plan, isTerminal, type PlanResult } from '../../src/core/plan.ts';
import { PRECHECK_TARGET, soakNamespaces, soakRequests } from '../../src/core/soak.ts';
import { asObserved, buildTagWebhook } from '../../src/core/tag-webhook.ts';
import { activeNonRevisionedInjector } from '../../src/core/tags.ts';
import { workloadKey } from '../../src/core/workloads.ts';
import { builtinReadings } from '../../src/kube/metrics/builtin.ts';
import { NEW, OLD, helmRevisionState, injectorWebhook, pod, revisionState, tagWebhook } from './fixtures.ts';

export interface FakeMeshOptions {
  /** Outcome of installer Jobs by purpose (default: Succeeded). */
  readonly jobOutcome?: Partial<Record<InstallerPurpose, JobState['outcome']>>;
  readonly jobMessage?: string;
  /** Workloads (kind/ns/name) whose rollout never completes on the new revision (say, its proxy crashes). */
  readonly stuck?: ReadonlySet<string>;
  /** Workloads whose rollout never completes at all, whatever the revision. */
  readonly stuckAlways?: ReadonlySet<string>;
  /** Tag webhook writes that are accepted but have no effect (e.g. another writer reverts them). */
  readonly tagWritesIgnored?: boolean;
  /** The first N tag writes stop after the injector webhook: the validator write is lost (a 500 before apply). */
  readonly validatorWritesLost?: number;
  /** Passes a restart takes to complete (default 0: at once). */
  readonly rolloutPasses?: number;
  /** Helm mode: the tags each istiod release renders (revisionTags), and the revision it installs. */
  readonly helmReleases?: Readonly<Record<string, { readonly revision: string; readonly tags: readonly string[] }>>;
}

function argAfter(args: readonly string[], flag: string, prefix = ''): string | undefined {
  const value = args[args.indexOf(flag) + 1];
  return value?.startsWith(prefix) === true ? value.slice(prefix.length) : undefined;
}

export class FakeMesh {
  observed: ObservedState;
  readonly restarts = new Map<string, number>();
  readonly evictions = new Map<string, number>();
  readonly jobRuns = new Map<string, number>();
  /** Jobs whose installer binding was revoked, in order. */
  readonly revocations: string[] = [];
  readonly tagWrites: string[] = [];
  /** Restarts still rolling: workload key -> passes left and the revision its pods will carry. */
  private readonly rolling = new Map<string, { passesLeft: number; revision: string | undefined; stamp: string }>();
  private readonly options: FakeMeshOptions;
  /** Helm mode: what each istiod release renders now. */
  readonly releases: Map<string, { revision: string; tags: string[] }>;
  /** Helm mode: commands run, as `<purpose> <release>`, in order. */
  readonly helmRuns: string[] = [];

  constructor(observed: ObservedState, options: FakeMeshOptions = {}) {
    this.observed = observed;
    this.options = options;
    this.releases = new Map(Object.entries(options.helmReleases ?? {}).map(([name, r]) => [name, { revision: r.revision, tags: [...r.tags] }]));
  }

  tagRevision(tag = 'default'): string | undefined {
    return this.observed.mutatingWebhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === tag)?.labels[ISTIO_REV_LABEL];
  }

  /** The revision a new pod of this workload would be injected by, as the webhooks say now. */
  injectedFor(w: WorkloadState): string | undefined {
    const ns = this.observed.namespaces.find((n) => n.name === w.namespace)?.labels ?? {};
    return injectingConfigs(this.observed.mutatingWebhooks, ns, { namespace: w.namespace, labels: w.templateLabels, annotations: w.templateAnnotations, hostNetwork: w.hostNetwork })[0]?.revision;
  }

  private install(revision: string): void {
    const o = this.observed;
    let webhooks = [...o.mutatingWebhooks, injectorWebhook(revision)];
    let validating = o.validatingWebhooks;
    // Like the real install (operator/pkg/webhook): no default tag -> one for the new revision, and the
    // non-revisioned injector deactivated.
    if (!defaultTagExists(o.mutatingWebhooks)) {
      const built = buildTagWebhook({ tag: 'default', revision, istioNamespace: o.istioNamespace, canonical: injectorWebhook(revision), existingValidator: undefined, autoInject: false });
      if (built.ok) {
        const nonRevisioned = activeNonRevisionedInjector(o);
        webhooks = [...webhooks.map((w) => (w.name === nonRevisioned?.name ? deactivated(w) : w)), asObserved(built.webhook.mutating)];
        if (built.webhook.validating !== undefined) validating = [...validating, { name: built.webhook.validating.metadata.name, labels: built.webhook.validating.metadata.labels, annotations: {}, webhooks: [] }];
      }
    }
    this.observed = { ...o, revisions: [...o.revisions, revisionState(revision, NEW.version)], mutatingWebhooks: webhooks, validatingWebhooks: validating };
  }

  private uninstall(revision: string): void {
    const o = this.observed;
    // Like the real `istioctl uninstall --revision`: everything labelled with the revision and a component goes.
    this.observed = {
      ...o,
      revisions: o.revisions.filter((r) => r.revision !== revision),
      mutatingWebhooks: o.mutatingWebhooks.filter((w) => !removedBy(w, revision, o.istioNamespace)),
      validatingWebhooks: o.validatingWebhooks.filter((w) => !removedBy(w, revision, o.istioNamespace)),
      workloads: o.workloads.filter((w) => !removedBy(w, revision, o.istioNamespace)),
    };
  }

  /**
   * What a helm command does to the mesh, as Helm does it: a release renders its revisionTags' webhooks (adopting
   * them with --take-ownership, keeping annotations only the live object has), and an upgrade that stops rendering
   * a tag deletes its webhook unless it carries helm.sh/resource-policy=keep. Gateway upgrades and rollbacks roll
   * the release's Deployments (generation + 1), whose new pods the webhooks inject.
   */
  private runHelm(action: RunInstallerJob, now: Date): void {
    const args = action.args;
    const release = args[1] === '--install' ? (args[2] ?? '') : (args[1] ?? '');
    this.helmRuns.push(`${action.purpose} ${release}`);
    if (args.includes('--dry-run')) return;
    const purpose = action.purpose;
    if (purpose === 'install') {
      const revision = argAfter(args, '--set', 'revision=') ?? NEW.revision;
      this.releases.set(release, { revision, tags: [] });
      const o = this.observed;
      this.observed = { ...o, revisions: [...o.revisions, helmRevisionState(revision, NEW.version, release)], mutatingWebhooks: [...o.mutatingWebhooks, injectorWebhook(revision)] };
      return;
    }
    if (args[0] === 'upgrade' && args.includes('--set') && (argAfter(args, '--set', 'revisionTags') !== undefined)) {
      const entry = this.releases.get(release);
      if (entry === undefined) return;
      const list = argAfter(args, '--set', 'revisionTags=') ?? 'null';
      const tags = list === 'null' ? [] : list.replace(/[{}]/g, '').split(',');
      const dropped = entry.tags.filter((t) => !tags.includes(t));
      entry.tags = tags;
      let webhooks = this.observed.mutatingWebhooks.filter((w) => {
        const tag = w.labels[ISTIO_TAG_LABEL];
        return tag === undefined || !dropped.includes(tag) || owningRelease(w)?.name !== release || w.annotations[HELM_RESOURCE_POLICY_ANNOTATION] === 'keep';
      });
      for (const tag of tags) {
        const live = webhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === tag);
        const rendered = tagWebhook(tag, entry.revision);
        const owned = { ...rendered, labels: { ...rendered.labels, 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { ...live?.annotations, 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': 'istio-system' } };
        webhooks = [...webhooks.filter((w) => w !== live), owned];
      }
      this.observed = { ...this.observed, mutatingWebhooks: webhooks };
      return;
    }
    if (purpose.startsWith('gw') || purpose.startsWith('rollback-gw')) {
      const namespace = argAfter(args, '--namespace') ?? '';
      for (const w of this.observed.workloads.filter((x) => x.namespace === namespace && owningRelease(x)?.name === release)) {
        const key = workloadKey(w);
        this.helmRolls.set(key, (this.helmRolls.get(key) ?? 0) + 1);
        this.updateWorkload(key, (x) => this.replacePods({ ...x, rollout: { ...x.rollout, generation: x.rollout.generation + 1 } }, `helm-${purpose}-${now.getTime()}`, this.injectedFor(x)));
      }
      return;
    }
    if (purpose === 'uninstall' || purpose === 'uninstall-new') {
      const entry = this.releases.get(release);
      if (entry === undefined) return;
      this.releases.delete(release);
      const o = this.observed;
      this.observed = {
        ...o,
        revisions: o.revisions.filter((r) => r.revision !== entry.revision),
        mutatingWebhooks: o.mutatingWebhooks.filter((w) => !(w.name === injectorWebhook(entry.revision).name || (owningRelease(w)?.name === release && w.annotations[HELM_RESOURCE_POLICY_ANNOTATION] !== 'keep' && entry.tags.includes(w.labels[ISTIO_TAG_LABEL] ?? '')))),
      };
    }
  }

  /** Helm mode: rolls of gateway Deployments by helm upgrade/rollback, per workload key. */
  readonly helmRolls = new Map<string, number>();

  private replacePods(w: WorkloadState, stamp: string, revision: string | undefined): WorkloadState {
    return {
      ...w,
      rollout: { ...w.rollout, observedGeneration: w.rollout.generation, updated: w.rollout.desired, ready: w.rollout.desired, total: w.rollout.desired },
      pods: Array.from({ length: w.rollout.desired }, (_, i) => pod(w.namespace, `${w.name}-${stamp.length}-${revision ?? 'none'}-${i}`, revision)),
    };
  }

  private updateWorkload(key: string, change: (w: WorkloadState) => WorkloadState): void {
    this.observed = { ...this.observed, workloads: this.observed.workloads.map((w) => (workloadKey(w) === key ? change(w) : w)) };
  }

  /** Advances rollouts under way by one pass (called by walk before each pass). */
  tick(): void {
    for (const [key, state] of this.rolling) {
      if (state.passesLeft > 0) {
        state.passesLeft -= 1;
        continue;
      }
      this.rolling.delete(key);
      this.updateWorkload(key, (w) => this.replacePods(w, state.stamp, state.revision));
    }
  }

  apply(action: Action, now: Date): void {
    const o = this.observed;
    switch (action.type) {
      case 'runInstallerJob': {
        this.jobRuns.set(action.jobName, (this.jobRuns.get(action.jobName) ?? 0) + 1);
        this.observed = { ...o, installerAccess: { grantedFor: action.jobName } }; // the binding comes before the Job
        if (o.jobs.some((j) => j.name === action.jobName)) return; // create is idempotent: AlreadyExists
        const outcome = this.options.jobOutcome?.[action.purpose] ?? 'Succeeded';
        const job: JobState = { name: action.jobName, outcome, message: outcome === 'Failed' ? (this.options.jobMessage ?? 'boom') : undefined, completedAt: now.toISOString() };
        this.observed = { ...this.observed, jobs: [...o.jobs, job] };
        if (outcome !== 'Succeeded') return;
        if (action.tool === 'helm') {
          this.runHelm(action, now);
          return;
        }
        if (action.purpose === 'install') this.install(argAfter(action.args, '--set', 'revision=') ?? NEW.revision);
        if (action.purpose === 'uninstall' || action.purpose === 'uninstall-new') this.uninstall(argAfter(action.args, '--revision') ?? OLD.revision);
        return;
      }
      case 'applyTagWebhook': {
        this.tagWrites.push(`${action.tag}->${action.revision}`);
        if (this.options.tagWritesIgnored === true) return;
        const webhook = asObserved(action.webhook.mutating);
        const lost = this.tagWrites.length <= (this.options.validatorWritesLost ?? 0);
        const validator = lost ? undefined : action.webhook.validating;
        this.observed = {
          ...o,
          mutatingWebhooks: [...o.mutatingWebhooks.filter((w) => w.name !== webhook.name), webhook],
          validatingWebhooks:
            validator === undefined
              ? o.validatingWebhooks
              : [...o.validatingWebhooks.filter((w) => w.name !== validator.metadata.name), { name: validator.metadata.name, labels: validator.metadata.labels, annotations: {}, webhooks: [] }],
        };
        return;
      }
      case 'setTagResourcePolicy':
        this.observed = {
          ...o,
          mutatingWebhooks: o.mutatingWebhooks.map((w) => {
            if (w.name !== action.webhookName) return w;
            const rest = Object.fromEntries(Object.entries(w.annotations).filter(([k]) => k !== HELM_RESOURCE_POLICY_ANNOTATION));
            return { ...w, annotations: action.keep ? { ...rest, [HELM_RESOURCE_POLICY_ANNOTATION]: 'keep' } : rest };
          }),
        };
        return;
      case 'revokeInstallerAccess':
        this.revocations.push(action.jobName);
        if (o.installerAccess?.grantedFor === action.jobName) this.observed = { ...o, installerAccess: undefined };
        return;
      case 'deactivateInjector':
        this.observed = { ...o, mutatingWebhooks: o.mutatingWebhooks.map((w) => (w.name === action.name ? deactivated(w) : w)) };
        return;
      case 'labelNamespace':
        this.observed = { ...o, namespaces: o.namespaces.map((n) => (n.name === action.name ? { ...n, labels: { ...n.labels, ...action.labels } } : n)) };
        return;
      case 'evictPod': {
        const key = `${action.namespace}/${action.name}`;
        this.evictions.set(key, (this.evictions.get(key) ?? 0) + 1);
        const owner = o.workloads.find((w) => w.pods.some((p) => p.namespace === action.namespace && p.name === action.name));
        if (owner === undefined) return;
        const revision = this.injectedFor(owner);
        this.updateWorkload(workloadKey(owner), (w) => {
          const pods: PodState[] = w.pods.map((p) => (p.name === action.name ? pod(w.namespace, `${p.name}-r`, revision) : p));
          const updated = pods.filter((p) => p.name.endsWith('-r')).length;
          return { ...w, pods, rollout: { ...w.rollout, updated } };
        });
        return;
      }
      case 'restartWorkload': {
        const key = workloadKey(action);
        this.restarts.set(key, (this.restarts.get(key) ?? 0) + 1);
        const target = o.workloads.find((w) => workloadKey(w) === key);
        if (target === undefined) return;
        const injected = this.injectedFor(target);
        const stuck = (this.options.stuckAlways?.has(key) ?? false) || (injected === NEW.revision && (this.options.stuck?.has(key) ?? false));
        this.updateWorkload(key, (w) => {
          const stamped = {
            ...w,
            templateAnnotations: { ...w.templateAnnotations, [RESTARTED_FOR_ANNOTATION]: action.stamp, [RESTARTED_AT_ANNOTATION]: action.restartedAt },
            rollout: { ...w.rollout, generation: w.rollout.generation + 1 },
          };
          // OnDelete: the controller sees the new template, but replaces no pod until one is deleted.
          if (w.update === 'onDelete') return { ...stamped, rollout: { ...stamped.rollout, observedGeneration: stamped.rollout.generation, updated: 0 } };
          if (stuck) return stamped;
          if ((this.options.rolloutPasses ?? 0) > 0) {
            this.rolling.set(key, { passesLeft: this.options.rolloutPasses ?? 0, revision: injected, stamp: action.stamp });
            return { ...stamped, rollout: { ...stamped.rollout, observedGeneration: stamped.rollout.generation, updated: 0 } };
          }
          return this.replacePods(stamped, action.stamp, injected);
        });
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
  /** The Events each written pass emitted, in order. */
  readonly eventsByPass: PlanResult['events'][];
}

export interface WalkOptions {
  readonly start?: Date;
  readonly maxPasses?: number;
  /** Called before each pass; may change the mesh or the upgrade (e.g. raise an error ratio). */
  readonly beforePass?: (pass: number, upgrade: IstioUpgrade, mesh: FakeMesh, now: Date) => IstioUpgrade | undefined;
  /** Simulate a crash after executing the actions of these passes: the status write is lost. */
  readonly crashAfterActions?: (pass: number) => boolean;
  readonly stopWhen?: (upgrade: IstioUpgrade) => boolean;
  /** Called with each pass's plan before its actions run: the mesh is still what that pass observed. */
  readonly afterPlan?: (result: PlanResult, mesh: FakeMesh) => void;
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
  const eventsByPass: PlanResult['events'][] = [];
  for (; pass < maxPasses; pass++) {
    mesh.tick();
    upgrade = options.beforePass?.(pass, upgrade, mesh, now) ?? upgrade;
    mesh.observed = { ...mesh.observed, metrics: sampleFor(upgrade, mesh.observed, now, options.errorRatio) };
    last = plan(upgrade, mesh.observed, now);
    options.afterPlan?.(last, mesh);
    for (const action of last.actions) mesh.apply(action, now);
    if (!(options.crashAfterActions?.(pass) ?? false)) {
      upgrade = { ...upgrade, status: last.status };
      eventsByPass.push(last.events);
      const phase = last.status.phase ?? 'Pending';
      if (phases.at(-1) !== phase) phases.push(phase);
    }
    if (isTerminal(upgrade.status.phase) || (options.stopWhen?.(upgrade) ?? false)) break;
    now = new Date(now.getTime() + Math.min(last.requeueAfterMs ?? 60_000, 60_000));
  }
  if (last === undefined) throw new Error('walk made no pass');
  return { upgrade, passes: pass + 1, phases, last, now, eventsByPass };
}

/**
 * What the soak providers would read: every Prometheus check returns the error ratio of the namespaces under
 * soak (one unlabelled series); the built-in signals are measured from the fake mesh by the real provider code.
 */
export function sampleFor(
  upgrade: IstioUpgrade,
  observed: ObservedState,
  now: Date,
  errorRatio: ((namespaces: readonly string[], upgrade: IstioUpgrade) => number) | undefined,
): MetricsSample | undefined {
  const requests = soakRequests(upgrade, now);
  const first = requests[0];
  if (first === undefined) return undefined;
  const readings = requests.flatMap((request): MetricReading[] => {
    if (request.provider === 'builtin') return builtinReadings(request, { observed, now });
    const value = request.target === PRECHECK_TARGET ? 0 : (errorRatio?.(soakNamespaces(upgrade, request.target), upgrade) ?? 0);
    return request.queries.map((q) => ({ name: q.name, kind: 'series' as const, series: [{ labels: {}, value }] }));
  });
  return { target: first.target, readings };
}
