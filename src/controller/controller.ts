// Wires informers to the work queue and the queue to the reconciler. Informers only enqueue keys; the
// reconciler always reads the latest object from the cache (level-triggered).
import type { Logger } from 'pino';
import { peekUpgrade } from '../api/peek-upgrade.ts';
import { TERMINAL_PHASES } from '../api/schema.ts';
import { requeueFor } from '../core/errors.ts';
import type { Change, InformerSet } from '../kube/caches.ts';
import type { OperatorMetrics } from '../runtime/metrics.ts';
import type { Reconciler } from './reconciler.ts';
import type { WorkQueue } from './work-queue.ts';

export interface ControllerDeps {
  readonly informers: InformerSet;
  readonly queue: WorkQueue;
  readonly reconciler: Reconciler;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  readonly resyncMs: number;
}

export class Controller {
  private readonly deps: ControllerDeps;
  private worker: Promise<void> | undefined;
  private resync: NodeJS.Timeout | undefined;
  private acting = false;
  private lastProgressMs = Date.now();
  /** Progress-only status writes and restarts the worker did not wait for; stop() waits for them. */
  private readonly background = new Set<Promise<boolean>>();

  constructor(deps: ControllerDeps) {
    this.deps = deps;
  }

  /** Informer callback: an upgrade changed -> that key; anything else -> every upgrade still in progress (Jobs and the installer binding: every upgrade). */
  onChange(change: Change): void {
    if (!this.acting) return;
    if (change.kind === 'upgrade') {
      this.deps.queue.add(change.name);
      return;
    }
    // A Job or the installer binding may concern a finished upgrade too (a grant left to revoke).
    if (change.resource === 'jobs' || change.resource === 'clusterrolebindings') this.enqueueAll();
    else this.enqueueActive();
  }

  /** Starts acting (on becoming leader). */
  start(): void {
    if (this.acting) return;
    this.acting = true;
    this.enqueueAll();
    this.resync = setInterval(() => {
      this.enqueueAll();
    }, this.deps.resyncMs);
    this.resync.unref();
    this.worker = this.work();
  }

  /** Stops acting: no new pass starts; the one under way finishes. */
  async stop(): Promise<void> {
    this.acting = false;
    if (this.resync !== undefined) clearInterval(this.resync);
    this.deps.queue.shutDown();
    await this.worker;
    await Promise.all(this.background);
    await this.deps.reconciler.drain();
  }

  /** Seconds since the worker last finished a pass or was idle (for liveness). */
  stuckForMs(): number {
    return this.deps.queue.length() === 0 ? 0 : Date.now() - this.lastProgressMs;
  }

  private enqueueAll(): void {
    for (const u of this.deps.informers.caches.upgrades.list()) {
      const name = u.metadata?.name;
      if (name !== undefined) this.deps.queue.add(name);
    }
  }

  private enqueueActive(): void {
    for (const raw of this.deps.informers.caches.upgrades.list()) {
      const peek = peekUpgrade(raw);
      if (peek !== undefined && (peek.phase === undefined || !TERMINAL_PHASES.includes(peek.phase))) this.deps.queue.add(peek.name);
    }
  }

  /** A progress write or a restart that fails is retried by a pass of its own, after the usual backoff. */
  private follow(key: string, work: Promise<boolean>): void {
    this.background.add(work);
    void work.then((done) => {
      this.background.delete(work);
      if (!done && this.acting) this.deps.queue.addRateLimited(key, 0);
    });
  }

  private async work(): Promise<void> {
    const { queue, reconciler, metrics, log } = this.deps;
    for (;;) {
      metrics.queueDepth.set(queue.length());
      const key = await queue.get();
      if (key === undefined) return;
      const stopTimer = metrics.reconcileDuration.startTimer();
      try {
        const result = await reconciler.reconcile(key);
        stopTimer({ result: 'ok' });
        queue.forget(key);
        metrics.reconciles.inc({ result: 'ok' });
        if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
        if (result.progressWrite !== undefined) this.follow(key, result.progressWrite);
        if (result.restarts !== undefined) this.follow(key, result.restarts);
      } catch (error) {
        stopTimer({ result: 'error' });
        metrics.reconciles.inc({ result: 'error' });
        const decision = requeueFor(error);
        metrics.reconcileErrors.inc({ class: decision.kind === 'none' ? 'stalled' : decision.kind === 'after' ? 'waiting' : 'transient' });
        if (decision.kind === 'after') queue.addAfter(key, decision.delayMs);
        else if (decision.kind === 'backoff') {
          const delay = queue.addRateLimited(key, decision.atLeastMs);
          log.warn({ upgrade: key, err: error, retryInMs: delay }, 'reconcile failed; will retry');
        } else log.error({ upgrade: key, err: error }, 'reconcile stalled: a person must act (see the IstioUpgrade status)');
      } finally {
        queue.done(key);
        this.lastProgressMs = Date.now();
      }
    }
  }
}
