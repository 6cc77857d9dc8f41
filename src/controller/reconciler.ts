// One pass for one IstioUpgrade: observe -> plan -> execute -> events -> write status once. Every path writes
// the status once, errors included: an error is folded into the conditions, written, then rethrown so the
// controller decides the requeue from its class.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { IstioUpgrade, IstioUpgradeStatus, Phase } from '../api/schema.ts';
import type { Action, RestartWorkload, UpgradeEvent } from '../core/actions.ts';
import type { WorkloadKind } from '../core/observed.ts';
import { StalledError, WaitingError } from '../core/errors.ts';
import { foldError } from '../core/fold-error.ts';
import { grantRevocations, isTerminal, plan } from '../core/plan.ts';
import { differsOnlyInProgress } from '../core/progress-only.ts';
import type { Caches } from '../kube/caches.ts';
import type { KubeClients } from '../kube/clients.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { InformerHealth } from '../kube/informer.ts';
import { describeAction, execute } from '../kube/execute.ts';
import type { InstallerSettings } from '../kube/installer/job-spec.ts';
import { observe, observeInstallerGrant, parseUpgrade, parseWithoutSpec, type ObserveContext } from '../kube/observe.ts';
import { writeStatus } from '../kube/status-writer.ts';
import type { OperatorMetrics } from '../runtime/metrics.ts';
import { RESTART_CONCURRENCY, inOrderBatches } from './action-batches.ts';
import { BackgroundRestarts } from './background-restarts.ts';
import { ProgressWriteGate } from './progress-write-gate.ts';
import { runBounded } from './run-bounded.ts';

export interface ReconcilerDeps {
  readonly clients: KubeClients;
  readonly caches: Caches;
  /** Informer caches that are not complete and current now: acting on a partial view is never safe. */
  readonly unsyncedCaches: () => readonly InformerHealth[];
  readonly observeContext: ObserveContext;
  readonly installer: InstallerSettings;
  readonly events: EventRecorder;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  readonly clock: () => Date;
  /** Checked before each write: a replica that lost its lease must not act. */
  readonly stillLeading?: () => boolean;
}

export interface ReconcileResult {
  readonly requeueAfterMs: number | undefined;
  /**
   * A progress-only status write still under way when the pass returned: true once written, false when it
   * failed (the caller requeues; the next pass writes it).
   */
  readonly progressWrite?: Promise<boolean>;
  /** Restarts still under way when the pass returned: true once all were answered, false when one failed (requeue). */
  readonly restarts?: Promise<boolean>;
}

const WATCH_RETRY_MS = 5_000;
/** How long caches may stay incomplete (for reasons other than RBAC) before the upgrade reports Stalled. */
const WATCH_STALLED_AFTER_MS = 60_000;

/** Thrown when leadership was lost in the middle of a pass: nothing more is written. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
}

function isRestart(action: Action): action is RestartWorkload {
  return action.type === 'restartWorkload';
}

export class Reconciler {
  private readonly deps: ReconcilerDeps;
  /** When each upgrade entered its current phase, for the step-duration histogram (best effort, in memory). */
  private readonly phaseSince = new Map<string, { phase: Phase; sinceMs: number }>();
  /**
   * The last status this replica wrote, with the resourceVersion it was based on: while the informer still
   * serves that older object, the next pass plans from what was written, never from a status older than its
   * own (else the same transition is planned twice: duplicate Events, clocks moved).
   */
  private readonly lastWritten = new Map<string, { basedOn: string; status: IstioUpgradeStatus }>();
  private readonly progressWrites = new ProgressWriteGate();
  /** Per upgrade, the progress-only write under way: the status it writes, and that status once landed (undefined: failed). */
  private readonly progressWriting = new Map<string, { readonly status: IstioUpgradeStatus; readonly landed: Promise<IstioUpgradeStatus | undefined> }>();

  private readonly cachedResourceVersion = (kind: WorkloadKind, namespace: string, name: string): string | undefined =>
    this.deps.caches.workloads.find((source) => source.kind === kind)?.resourceVersion?.(namespace, name);

  private readonly restarts = new BackgroundRestarts(RESTART_CONCURRENCY, this.cachedResourceVersion);

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
  }

  /** Resolves once every restart left running by a pass is answered (for a clean stop). */
  drain(): Promise<void> {
    return this.restarts.drain();
  }

  /**
   * The upgrade parsed (schema, defaults), reused while the cached object and the status written over it are the
   * same objects: at scale, parsing every pass cost more than planning it.
   */
  private readonly parsedUpgrades = new WeakMap<object, { overlay: IstioUpgradeStatus | undefined; parsed: ReturnType<typeof parseUpgrade> }>();
  private parsed(raw: object, overlay: IstioUpgradeStatus | undefined, current: unknown): ReturnType<typeof parseUpgrade> {
    const previous = this.parsedUpgrades.get(raw);
    if (previous !== undefined && previous.overlay === overlay) return previous.parsed;
    const parsed = parseUpgrade(current);
    this.parsedUpgrades.set(raw, { overlay, parsed });
    return parsed;
  }

  private ensureLeading(): void {
    if (this.deps.stillLeading !== undefined && !this.deps.stillLeading()) throw new NotLeaderError('lost the leader lease during the pass; stopping without writing');
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const { caches, metrics, clock } = this.deps;
    const raw = caches.upgrades.get(name);
    if (raw === undefined) {
      metrics.forget(name);
      this.phaseSince.delete(name);
      this.lastWritten.delete(name);
      this.progressWrites.forget(name);
      this.restarts.forget(name);
      return { requeueAfterMs: undefined };
    }
    const cachedVersion = raw.metadata?.resourceVersion ?? '';
    const written = this.lastWritten.get(name);
    if (written !== undefined && written.basedOn !== cachedVersion) this.lastWritten.delete(name);
    // A progress-only write under way is planned from as if it had landed: it changes nothing a pass decides on,
    // and a pass that folds an error into the status must not carry the older counters back.
    const overlay = this.progressWriting.get(name)?.status ?? (written !== undefined && written.basedOn === cachedVersion ? written.status : undefined);
    const current = overlay === undefined ? raw : { ...raw, status: overlay };
    const parsed = this.parsed(raw, overlay, current);
    if (!parsed.ok) {
      await this.reportInvalidSpec(name, current, parsed.message, cachedVersion);
      return { requeueAfterMs: undefined };
    }
    const upgrade = parsed.upgrade;
    metrics.recordStatus(name, upgrade.status);
    if (isTerminal(upgrade.status.phase)) {
      await this.revokeLeftoverGrant(upgrade);
      return { requeueAfterMs: undefined };
    }

    // A replica whose lease may have lapsed starts no pass at all (reads included): another may be acting.
    this.ensureLeading();
    const log = this.deps.log.child({ upgrade: name, phase: upgrade.status.phase ?? 'Pending' });
    const now = clock();
    log.debug('pass');
    let status: IstioUpgradeStatus = upgrade.status;
    let events: readonly UpgradeEvent[] = [];
    let requeueAfterMs: number | undefined;
    let failure: Error | undefined;
    let restarts: Promise<boolean> | undefined;
    const withRestarts = (result: ReconcileResult): ReconcileResult => (restarts === undefined ? result : { ...result, restarts });
    try {
      const unsynced = this.deps.unsyncedCaches();
      if (unsynced.length > 0) {
        const what = `cannot list/watch ${unsynced.map((h) => (h.lastError === undefined ? h.name : `${h.name} (${h.lastError})`)).join(', ')}`;
        // Forbidden never passes by itself; anything else is first retried quietly (an API server restart, a
        // few failed requests) and only reported as Stalled once it has lasted.
        const lasting = unsynced.some((h) => h.lastStatusCode === 403 || h.failingForMs > WATCH_STALLED_AFTER_MS);
        if (!lasting) throw new WaitingError('RetryingAfterError', `not acting on a partial view of the cluster yet: ${what}; retrying`, WATCH_RETRY_MS);
        throw new WaitingError('WatchFailed', `not acting on a partial view of the cluster: ${what}; check the operator's RBAC (deploy/rbac-operator.yaml) and the API server`, WATCH_RETRY_MS);
      }
      const observed = await observe(this.deps.observeContext, upgrade, now);
      const result = plan(upgrade, observed, now);
      status = result.status;
      events = result.events;
      requeueAfterMs = result.requeueAfterMs;
      restarts = (await this.executeActions(upgrade, log, result.actions)).detached;
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      metrics.actions.inc({ type: 'any', outcome: 'error' });
      failure = error instanceof Error ? error : new Error(String(error));
      status = foldError(status, upgrade.metadata.generation, error, now);
      if (error instanceof StalledError) events = [...events, { type: 'Warning', reason: error.reason, message: error.message }];
    }
    this.ensureLeading();
    const eventErrors = await this.deps.events.record(upgrade.metadata, events, now);
    for (const err of eventErrors) log.warn({ err }, 'could not record an event');
    for (const event of events) log.info({ event: event.reason, type: event.type }, event.message);
    const progressWait = failure === undefined && events.length === 0 ? this.progressWrites.wait(name, upgrade.status, status, now.getTime()) : undefined;
    if (progressWait !== undefined) {
      // Written by the pass the requeue brings (or an earlier one), with the progress of that moment.
      metrics.recordStatus(name, status);
      return withRestarts({ requeueAfterMs: Math.min(requeueAfterMs ?? progressWait, progressWait) });
    }
    const previous = await this.landedStatus(name, upgrade.status);
    if (failure === undefined && events.length === 0 && !isDeepStrictEqual(previous, status) && differsOnlyInProgress(previous, status)) {
      // Only counters and messages changed, which no pass plans from: the worker goes on (a freed slot is refilled
      // while the API server answers) and the next write of this upgrade waits for this one (landedStatus).
      this.progressWrites.wrote(name, now.getTime());
      const landed = this.writeAndRecord(upgrade.metadata.name, previous, status, log, now, cachedVersion).then(
        () => status,
        (error: unknown) => {
          this.progressWrites.forget(name);
          log.warn({ err: error }, 'progress status write failed; the next pass writes it');
          return undefined;
        },
      );
      const writing = { status, landed };
      this.progressWriting.set(name, writing);
      const settled = landed.then((result) => {
        if (this.progressWriting.get(name) === writing) this.progressWriting.delete(name);
        return result !== undefined;
      });
      return withRestarts({ requeueAfterMs, progressWrite: settled });
    }
    await this.writeAndRecord(upgrade.metadata.name, previous, status, log, now, cachedVersion);
    if (failure !== undefined) throw failure;
    return withRestarts({ requeueAfterMs });
  }

  /**
   * The pass's actions in order, consecutive restarts and evictions a few at a time. Restarts that end the pass
   * are left running (the promise says how they ended), unless a restart of this upgrade failed since its last
   * good pass: then they are awaited, so their error is folded and requeued by its class. A restart already
   * sent and not yet seen in the cache is not sent again.
   */
  private async executeActions(upgrade: IstioUpgrade, log: Logger, actions: readonly Action[]): Promise<{ detached?: Promise<boolean> }> {
    const name = upgrade.metadata.name;
    const detachable = this.restarts.mayDetach(name);
    const batches = inOrderBatches(actions);
    const last = batches.at(-1);
    const detached = detachable && last?.every(isRestart) === true ? last : undefined;
    if (detached !== undefined) batches.pop();
    let awaitedRestarts = 0;
    for (const batch of batches) {
      const unsent = new Set<Action>(this.restarts.unsent(name, batch.filter(isRestart)));
      const runnable = batch.filter((action) => !isRestart(action) || unsent.has(action));
      awaitedRestarts += unsent.size;
      await runBounded(runnable, RESTART_CONCURRENCY, (action) => this.executeAction(upgrade, log, action));
    }
    if (!detachable && awaitedRestarts > 0) this.restarts.awaitedSucceeded(name);
    const toSend = detached === undefined ? [] : this.restarts.unsent(name, detached);
    if (toSend.length === 0) return {};
    const launched = this.restarts.launch(
      name,
      toSend,
      (action) => this.executeAction(upgrade, log, action),
      (action, error) => {
        log.warn({ err: error, action: action.type, target: describeAction(action) }, 'restart failed; the next pass retries it and waits for it');
      },
    );
    return { detached: launched };
  }

  /**
   * The status the next write of an upgrade is a change from. With a progress-only write under way, it waits for
   * it (writes of one upgrade never overlap): what it wrote once it landed; after a failure what is stored is not
   * known, so the next write replaces the whole status (a change from nothing). Else the status the pass read.
   */
  private async landedStatus(name: string, read: IstioUpgradeStatus): Promise<IstioUpgradeStatus> {
    const writing = this.progressWriting.get(name);
    return writing === undefined ? read : ((await writing.landed) ?? {});
  }

  /**
   * A finished upgrade plans nothing and writes no status, but a Job of it may have finished after it ended
   * (istioctl still pruning when the revision was already gone): its installer binding is revoked then.
   */
  private async revokeLeftoverGrant(upgrade: IstioUpgrade): Promise<void> {
    const actions = grantRevocations(observeInstallerGrant(this.deps.observeContext, upgrade));
    if (actions.length === 0 || this.deps.unsyncedCaches().length > 0) return;
    const log = this.deps.log.child({ upgrade: upgrade.metadata.name, phase: upgrade.status.phase ?? 'Pending' });
    for (const action of actions) await this.executeAction(upgrade, log, action);
  }

  /** One action, as the leader, counted and logged. */
  private async executeAction(upgrade: IstioUpgrade, log: Logger, action: Action): Promise<void> {
    this.ensureLeading();
    const startedMs = performance.now();
    const outcome = await execute({ clients: this.deps.clients, installer: this.deps.installer, owner: upgrade.metadata, cachedResourceVersion: this.cachedResourceVersion }, action);
    // How long the API server took over it: a slow rollout step shows whether the operator or the server waited.
    const durationMs = Math.round(performance.now() - startedMs);
    this.deps.metrics.actions.inc({ type: action.type, outcome });
    if (action.type === 'restartWorkload' && outcome === 'done') this.deps.metrics.workloadsRestarted.inc({ upgrade: upgrade.metadata.name, kind: action.kind });
    log.info({ action: action.type, outcome, target: describeAction(action), durationMs }, 'action');
  }

  /**
   * A spec the operator cannot parse (the CRD on the cluster may be older than the operator's bounds) is
   * reported as Stalled InvalidSpec on the status it has, phase kept; nothing else is done. When even the
   * status cannot be read, it is left alone (never overwrite an upgrade's progress) and only logged.
   */
  private async reportInvalidSpec(name: string, raw: unknown, problems: string, basedOn: string): Promise<void> {
    const log = this.deps.log.child({ upgrade: name });
    const upgrade = parseWithoutSpec(raw);
    if (upgrade === undefined) {
      log.error({ problems }, 'IstioUpgrade does not match the schema and its status cannot be read; is the CRD up to date?');
      return;
    }
    log.error({ problems }, 'IstioUpgrade spec does not match the schema');
    if (isTerminal(upgrade.status.phase)) return;
    this.ensureLeading();
    const now = this.deps.clock();
    const error = new StalledError('InvalidSpec', `the spec does not match the schema: ${problems}; fix it (and apply deploy/crd.yaml of this operator version if the cluster's CRD is older)`);
    const status = foldError(upgrade.status, upgrade.metadata.generation, error, now);
    const changed = !isDeepStrictEqual(status, upgrade.status);
    if (changed) {
      const eventErrors = await this.deps.events.record(upgrade.metadata, [{ type: 'Warning', reason: error.reason, message: error.message }], now);
      for (const err of eventErrors) log.warn({ err }, 'could not record an event');
    }
    await this.writeAndRecord(name, await this.landedStatus(name, upgrade.status), status, log, now, basedOn);
  }

  private async writeAndRecord(name: string, previous: IstioUpgradeStatus, status: IstioUpgradeStatus, log: Logger, now: Date, basedOn: string): Promise<void> {
    this.ensureLeading();
    const written = await writeStatus(this.deps.clients.custom, name, previous, status);
    if (written !== undefined) {
      this.lastWritten.set(name, { basedOn, status });
      this.progressWrites.wrote(name, now.getTime());
    }
    this.deps.metrics.recordStatus(name, status);
    const phase = status.phase ?? 'Pending';
    const since = this.phaseSince.get(name);
    if (since === undefined) this.phaseSince.set(name, { phase, sinceMs: now.getTime() });
    else if (since.phase !== phase) {
      this.deps.metrics.stepDuration.observe({ phase: since.phase }, (now.getTime() - since.sinceMs) / 1000);
      this.phaseSince.set(name, { phase, sinceMs: now.getTime() });
    }
    if (written !== undefined) log.debug({ phase, upgraded: status.upgraded, resourceVersion: written }, 'status written');
  }
}
