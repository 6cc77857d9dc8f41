// One pass for one IstioUpgrade: observe -> plan -> execute -> events -> write status once.
import type { Logger } from 'pino';
import type { IstioUpgrade, Phase } from '../api/schema.ts';
import { blockedStatus } from '../core/blocked.ts';
import { StalledError, WaitingError } from '../core/errors.ts';
import { isTerminal, plan } from '../core/plan.ts';
import type { Caches } from '../kube/caches.ts';
import type { KubeClients } from '../kube/clients.ts';
import type { EventRecorder } from '../kube/events.ts';
import { execute } from '../kube/execute.ts';
import type { InstallerSettings } from '../kube/installer/job-spec.ts';
import { observe, parseUpgrade, type ObserveContext } from '../kube/observe.ts';
import { writeStatus } from '../kube/status-writer.ts';
import type { OperatorMetrics } from '../runtime/metrics.ts';

export interface ReconcilerDeps {
  readonly clients: KubeClients;
  readonly caches: Caches;
  /** Informers that are not watching; acting on a partial view of the cluster is never safe. */
  readonly unsyncedCaches: () => readonly string[];
  readonly observeContext: ObserveContext;
  readonly installer: InstallerSettings;
  readonly events: EventRecorder;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  readonly clock: () => Date;
}

export interface ReconcileResult {
  readonly requeueAfterMs: number | undefined;
}

export class Reconciler {
  private readonly deps: ReconcilerDeps;
  /** When each upgrade entered its current phase, for the step-duration histogram (best effort, in memory). */
  private readonly phaseSince = new Map<string, { phase: Phase; sinceMs: number }>();

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const { caches, metrics, clock } = this.deps;
    const raw = caches.upgrades.get(name);
    if (raw === undefined) {
      metrics.forget(name);
      this.phaseSince.delete(name);
      return { requeueAfterMs: undefined };
    }
    const parsed = parseUpgrade(raw);
    if (!parsed.ok) {
      this.deps.log.error({ upgrade: name, problems: parsed.message }, 'IstioUpgrade does not match the schema; is the CRD up to date?');
      return { requeueAfterMs: undefined };
    }
    const upgrade = parsed.upgrade;
    metrics.recordStatus(name, upgrade.status);
    if (isTerminal(upgrade.status.phase)) return { requeueAfterMs: undefined };

    const log = this.deps.log.child({ upgrade: name, phase: upgrade.status.phase ?? 'Pending' });
    const now = clock();
    const unsynced = this.deps.unsyncedCaches();
    if (unsynced.length > 0) {
      const message = `not acting on a partial view of the cluster: cannot list/watch ${unsynced.join(', ')}; check the operator's RBAC (deploy/rbac-operator.yaml)`;
      await this.writeAndRecord(upgrade, blockedStatus(upgrade, upgrade.status, 'WatchFailed', message, now), log, now);
      throw new WaitingError(message, 30_000);
    }
    const observed = await observe(this.deps.observeContext, upgrade, now);
    const result = plan(upgrade, observed, now);
    try {
      for (const action of result.actions) {
        const outcome = await execute({ clients: this.deps.clients, installer: this.deps.installer, owner: upgrade.metadata }, action);
        metrics.actions.inc({ type: action.type, outcome });
        if (action.type === 'restartWorkload' && outcome === 'done') metrics.workloadsRestarted.inc({ upgrade: name, kind: action.kind });
        log.info({ action: action.type, outcome, target: describe(action) }, 'action');
      }
    } catch (error) {
      metrics.actions.inc({ type: 'any', outcome: 'error' });
      if (error instanceof StalledError) {
        // The cluster refuses what the plan needs: say so in the status, keep the phase, wait for a person.
        await this.writeAndRecord(upgrade, blockedStatus(upgrade, upgrade.status, error.reason, error.message, now), log, now);
        await this.deps.events.record(upgrade.metadata, [{ type: 'Warning', reason: error.reason, message: error.message }], now);
      }
      throw error;
    }
    const eventErrors = await this.deps.events.record(upgrade.metadata, result.events, now);
    for (const err of eventErrors) log.warn({ err }, 'could not record an event');
    for (const event of result.events) log.info({ event: event.reason, type: event.type }, event.message);
    await this.writeAndRecord(upgrade, result.status, log, now);
    return { requeueAfterMs: result.requeueAfterMs };
  }

  private async writeAndRecord(upgrade: IstioUpgrade, status: IstioUpgrade['status'], log: Logger, now: Date): Promise<void> {
    const name = upgrade.metadata.name;
    const written = await writeStatus(this.deps.clients.custom, name, upgrade.status, status);
    this.deps.metrics.recordStatus(name, status);
    const phase = status.phase ?? 'Pending';
    const since = this.phaseSince.get(name);
    if (since === undefined) this.phaseSince.set(name, { phase, sinceMs: now.getTime() });
    else if (since.phase !== phase) {
      this.deps.metrics.stepDuration.observe({ phase: since.phase }, (now.getTime() - since.sinceMs) / 1000);
      this.phaseSince.set(name, { phase, sinceMs: now.getTime() });
      log.info({ from: since.phase, to: phase, upgraded: status.upgraded }, 'phase changed');
    }
    if (written) log.debug({ phase, upgraded: status.upgraded }, 'status written');
  }
}

function describe(action: Parameters<typeof execute>[1]): string {
  switch (action.type) {
    case 'runInstallerJob':
      return `job ${action.jobName}: istioctl ${action.args.join(' ')}`;
    case 'applyTagWebhook':
      return `tag ${action.tag} -> ${action.revision}`;
    case 'restartWorkload':
      return `${action.kind}/${action.namespace}/${action.name}`;
  }
}
