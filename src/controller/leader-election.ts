// Lease-based leader election (coordination.k8s.io/v1), as client-go does it: acquire or renew every retry
// period; a leader that cannot renew within the renew deadline stops acting.
import { microTime, type LeaseApi, type LeaseBody, type LeaseMetadata } from '../kube/rest/api-groups.ts';
import type { Logger } from 'pino';
import { isNotFound, statusCodeOf } from '../kube/api-errors.ts';

/** How soon a leader retries a renewal that failed (the normal period is retryPeriodMs). */
const FAILED_RENEW_RETRY_MS = 500;

export interface LeaderElectionSettings {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/** Name, namespace and the resourceVersion that makes a replace conditional. */
function leaseMeta(lease: LeaseBody): LeaseMetadata {
  const meta = lease.metadata;
  return { ...(meta?.name === undefined ? {} : { name: meta.name }), ...(meta?.namespace === undefined ? {} : { namespace: meta.namespace }), ...(meta?.resourceVersion === undefined ? {} : { resourceVersion: meta.resourceVersion }) };
}

export class LeaderElector {
  private leading = false;
  private lastRenewMs = 0;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private readonly api: LeaseApi;
  private readonly settings: LeaderElectionSettings;
  private readonly log: Logger;
  private readonly clock: () => number;

  constructor(api: LeaseApi, settings: LeaderElectionSettings, log: Logger, clock: () => number = Date.now) {
    this.api = api;
    this.settings = settings;
    this.log = log;
    this.clock = clock;
  }

  /**
   * Whether this replica may act now: it leads and renewed the lease within the renew deadline, which is
   * shorter than the lease duration, so a leader cut off from the API server stops before anyone else can
   * acquire the lease.
   */
  holdsLease(): boolean {
    return this.leading && this.clock() - this.lastRenewMs < this.settings.renewDeadlineMs;
  }

  /** Runs until stop(); calls back on every change of leadership. */
  async run(callbacks: LeaderCallbacks): Promise<void> {
    while (!this.stopped) {
      let renewed = false;
      // The lease says it was renewed when the attempt began: count from then, not from a late answer, so this
      // replica never believes it holds the lease longer than the others see it held.
      const attemptedAt = this.clock();
      try {
        renewed = await this.tryAcquireOrRenew();
      } catch (error) {
        this.log.warn({ err: error }, 'leader election: lease request failed');
      }
      const now = this.clock();
      if (renewed) {
        this.lastRenewMs = attemptedAt;
        if (!this.leading) {
          this.leading = true;
          this.log.info({ lease: `${this.settings.namespace}/${this.settings.name}` }, 'became leader');
          callbacks.onStartedLeading();
        }
      } else if (this.leading && now - this.lastRenewMs > this.settings.renewDeadlineMs) {
        this.leading = false;
        this.log.warn('lost the leader lease; stopping all actions');
        callbacks.onStoppedLeading();
      }
      // A leader whose renewal failed tries again soon, so a few failed requests in a row do not cost the lease.
      const waitMs = this.leading && !renewed ? Math.min(this.settings.retryPeriodMs, FAILED_RENEW_RETRY_MS) : this.settings.retryPeriodMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Stops campaigning and, when leading, hands the lease back so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.settings.name, namespace: this.settings.namespace });
      if (lease.spec?.holderIdentity === this.settings.identity) {
        // An empty holder with a one-second lease, as client-go's ReleaseOnCancel writes it.
        const spec = { leaseDurationSeconds: 1, holderIdentity: '', renewTime: microTime(this.clock()), leaseTransitions: lease.spec.leaseTransitions ?? 0 };
        await this.api.replaceNamespacedLease({ name: this.settings.name, namespace: this.settings.namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: leaseMeta(lease), spec } });
      }
    } catch (error) {
      this.log.warn({ err: error }, 'could not release the leader lease; it expires by itself');
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.settings;
    const now = this.clock();
    let lease: LeaseBody;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 } },
        });
        return true;
      } catch (createError) {
        if (statusCodeOf(createError) === 409) return false;
        throw createError;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const renewedAt = spec.renewTime === undefined ? 0 : Date.parse(spec.renewTime);
    const expired = renewedAt + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now;
    if (holder !== undefined && holder !== '' && holder !== identity && !expired) return false;
    const takeover = holder !== identity;
    const acquireTime = takeover || spec.acquireTime === undefined ? microTime(now) : microTime(Date.parse(spec.acquireTime));
    try {
      // replace carries the resourceVersion we read: two replicas racing for the lease cannot both win.
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: leaseMeta(lease),
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime, renewTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover ? 1 : 0) },
        },
      });
      return true;
    } catch (error) {
      if (statusCodeOf(error) === 409) return false;
      throw error;
    }
  }
}
