// Prometheus metrics of the operator (prom-client). Every metric is documented in docs/metrics.md.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Phases, type IstioUpgradeStatus, type Phase } from '../api/schema.ts';
import type { InformerHealth } from '../kube/informer.ts';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly phase = new Gauge({ name: 'istio_upgrade_phase', help: 'Current phase of each IstioUpgrade (1 for the current phase, 0 for the others).', labelNames: ['upgrade', 'phase'], registers: [this.registry] });
  readonly workloads = new Gauge({ name: 'istio_upgrade_workloads', help: 'Workloads of each IstioUpgrade by state (total, upgraded, pending, skipped).', labelNames: ['upgrade', 'state'], registers: [this.registry] });
  readonly workloadsRestarted = new Counter({ name: 'istio_upgrade_workloads_restarted_total', help: 'Workload restarts performed (rollout and rollback).', labelNames: ['upgrade', 'kind'], registers: [this.registry] });
  readonly stepDuration = new Histogram({
    name: 'istio_upgrade_step_duration_seconds',
    help: 'Time spent in each phase, observed when the phase ends.',
    labelNames: ['phase'],
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600, 7200],
    registers: [this.registry],
  });
  readonly soakCheck = new Gauge({ name: 'istio_upgrade_soak_check_value', help: 'Last value of each soak check.', labelNames: ['upgrade', 'check'], registers: [this.registry] });
  readonly actions = new Counter({ name: 'istio_upgrade_actions_total', help: 'Actions executed, by type and outcome (done, skipped, error).', labelNames: ['type', 'outcome'], registers: [this.registry] });
  readonly reconciles = new Counter({ name: 'istio_upgrade_reconcile_total', help: 'Reconcile passes by result (ok, error).', labelNames: ['result'], registers: [this.registry] });
  readonly reconcileDuration = new Histogram({
    name: 'istio_upgrade_reconcile_duration_seconds',
    help: 'Duration of a reconcile pass (observe, plan, actions, Events, status write), by result.',
    labelNames: ['result'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({ name: 'istio_upgrade_reconcile_errors_total', help: 'Failed reconcile passes by error class (stalled, waiting, transient).', labelNames: ['class'], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'istio_upgrade_queue_depth', help: 'Keys waiting in the work queue.', registers: [this.registry] });
  readonly leader = new Gauge({ name: 'istio_upgrade_leader', help: '1 when this replica holds the leader lease.', registers: [this.registry] });
  private informerHealth: () => readonly InformerHealth[] = () => [];
  readonly informerUp = new Gauge({
    name: 'istio_upgrade_informer_up',
    help: '1 when the informer cache is complete and current, 0 while its list/watch keeps failing (the operator does not act then).',
    labelNames: ['informer'],
    registers: [this.registry],
    collect: () => {
      this.informerUp.reset();
      for (const h of this.informerHealth()) this.informerUp.set({ informer: h.name }, h.up ? 1 : 0);
    },
  });
  readonly informerSyncAge = new Gauge({
    name: 'istio_upgrade_informer_last_sync_age_seconds',
    help: 'Seconds since the informer cache was last known complete (a list, a watch event or a clean watch end).',
    labelNames: ['informer'],
    registers: [this.registry],
    collect: () => {
      this.informerSyncAge.reset();
      const now = Date.now();
      for (const h of this.informerHealth()) if (h.lastSyncMs !== undefined) this.informerSyncAge.set({ informer: h.name }, (now - h.lastSyncMs) / 1000);
    },
  });

  readonly informerLists = this.informerCounter(
    'istio_upgrade_informer_lists_total',
    'Full lists by informer, the first included; more than one means a watch could not resume (410 Gone or a failure) and every object was read again.',
    (h) => h.lists,
  );
  readonly informerWatches = this.informerCounter('istio_upgrade_informer_watches_total', 'Watch requests by informer (one per server timeout of 5 to 6 minutes when all is well).', (h) => h.watches);

  constructor(withDefaults = true) {
    if (withDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'istio_upgrade_operator_' });
  }

  /** A counter per informer, read from the informers' own counts at each scrape. */
  private informerCounter(name: string, help: string, count: (health: InformerHealth) => number): Counter<'informer'> {
    const counter: Counter<'informer'> = new Counter({
      name,
      help,
      labelNames: ['informer'],
      registers: [this.registry],
      collect: () => {
        counter.reset();
        for (const h of this.informerHealth()) counter.inc({ informer: h.name }, count(h));
      },
    });
    return counter;
  }

  /** Where the informer gauges read their values at each scrape. */
  observeInformers(source: () => readonly InformerHealth[]): void {
    this.informerHealth = source;
  }

  recordStatus(upgrade: string, status: IstioUpgradeStatus): void {
    const current: Phase = status.phase ?? 'Pending';
    for (const phase of Phases) this.phase.set({ upgrade, phase }, phase === current ? 1 : 0);
    const w = status.workloads;
    if (w !== undefined) {
      for (const [state, value] of Object.entries(w)) this.workloads.set({ upgrade, state }, value);
    }
    for (const result of status.soak?.results ?? []) {
      if (result.value !== undefined) this.soakCheck.set({ upgrade, check: result.name }, result.value);
    }
  }

  forget(upgrade: string): void {
    for (const phase of Phases) this.phase.remove({ upgrade, phase });
    for (const state of ['total', 'upgraded', 'pending', 'skipped']) this.workloads.remove({ upgrade, state });
  }
}
