// Lease leader election against a recording in-memory Lease API with resourceVersion checks: acquire, renew,
// respect another holder, take over an expired lease, and stop acting once renewals fail past the deadline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { V1Lease } from '@kubernetes/client-node';
import type { LeaseApi } from '../../../src/kube/rest/api-groups.ts';
import { LeaderElector } from '../../../src/controller/leader-election.ts';
import { apiError } from '../../support/recording-clients.ts';
import { pollUntil } from '../../support/poll.ts';

class FakeLeases {
  lease: V1Lease | undefined;
  readonly calls: string[] = [];
  failing = false;
  private version = 0;

  private store(body: V1Lease): V1Lease {
    const lease = structuredClone(body);
    lease.metadata = Object.assign(lease.metadata ?? {}, { resourceVersion: String(++this.version) });
    this.lease = lease;
    return lease;
  }

  private readonly read = (): Promise<V1Lease> => {
    this.calls.push('read');
    if (this.failing) return Promise.reject(apiError(503));
    return this.lease === undefined ? Promise.reject(apiError(404)) : Promise.resolve(structuredClone(this.lease));
  };

  private readonly create = ({ body }: { body: V1Lease }): Promise<V1Lease> => {
    this.calls.push('create');
    if (this.lease !== undefined) return Promise.reject(apiError(409));
    return Promise.resolve(this.store(body));
  };

  private readonly replace = ({ body }: { body: V1Lease }): Promise<V1Lease> => {
    this.calls.push('replace');
    if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) return Promise.reject(apiError(409));
    return Promise.resolve(this.store(body));
  };

  api(): LeaseApi {
    // Only the three methods the elector uses exist on this stand-in.
    return { readNamespacedLease: this.read, createNamespacedLease: this.create, replaceNamespacedLease: this.replace } as unknown as LeaseApi;
  }
}

const settings = (identity: string) => ({ namespace: 'ops', name: 'lease', identity, leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 5 });

/** Runs the elector until `until` holds (or 200 rounds), with a controllable clock. */
async function campaign(elector: LeaderElector, until: (seen: { started: number; stopped: number }) => boolean): Promise<{ started: number; stopped: number }> {
  const seen = { started: 0, stopped: 0 };
  const running = elector.run({ onStartedLeading: () => (seen.started += 1), onStoppedLeading: () => (seen.stopped += 1) });
  await pollUntil(() => until(seen));
  await elector.stop();
  await running;
  return seen;
}

describe('leader election', () => {
  it('creates the lease when there is none and leads', async () => {
    const leases = new FakeLeases();
    const elector = new LeaderElector(leases.api(), settings('a'), pino({ level: 'silent' }));
    let holder: string | undefined;
    const seen = await campaign(elector, (s) => {
      holder = leases.lease?.spec?.holderIdentity;
      return s.started > 0;
    });
    assert.equal(seen.started, 1);
    assert.equal(holder, 'a');
    assert.deepEqual(leases.calls.slice(0, 2), ['read', 'create']);
    // Stopping hands the lease back (empty holder, one-second duration) so another replica takes over at once.
    assert.equal(leases.lease?.spec?.holderIdentity, '');
    assert.equal(leases.lease?.spec?.leaseDurationSeconds, 1);
  });

  it('does not take a lease another replica renews', async () => {
    const leases = new FakeLeases();
    const now = Date.now();
    leases.lease = { metadata: { name: 'lease', namespace: 'ops', resourceVersion: '1' }, spec: { holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: new Date(now) as never } };
    const elector = new LeaderElector(leases.api(), settings('a'), pino({ level: 'silent' }), () => now);
    const seen = await campaign(elector, () => leases.calls.length >= 4);
    assert.equal(seen.started, 0);
    assert.equal(elector.holdsLease(), false);
    assert.ok(!leases.calls.includes('replace'));
  });

  it('takes over an expired lease, counting the transition', async () => {
    const leases = new FakeLeases();
    const now = Date.now();
    leases.lease = { metadata: { name: 'lease', namespace: 'ops', resourceVersion: '1' }, spec: { holderIdentity: 'b', leaseDurationSeconds: 15, leaseTransitions: 3, renewTime: new Date(now - 16_000) as never } };
    const elector = new LeaderElector(leases.api(), settings('a'), pino({ level: 'silent' }), () => now);
    const seen = await campaign(elector, (s) => s.started > 0);
    assert.equal(seen.started, 1);
    assert.equal(leases.lease?.spec?.leaseTransitions, 4);
  });

  it('stops acting once renewals fail for longer than the renew deadline, before the lease expires for others', async () => {
    const leases = new FakeLeases();
    let now = Date.now();
    const elector = new LeaderElector(leases.api(), settings('a'), pino({ level: 'silent' }), () => now);
    const seen = { started: 0, stopped: 0 };
    const running = elector.run({ onStartedLeading: () => (seen.started += 1), onStoppedLeading: () => (seen.stopped += 1) });
    await pollUntil(() => seen.started !== 0, 100);
    assert.equal(elector.holdsLease(), true);
    // The API server becomes unreachable for this replica.
    leases.failing = true;
    now += 9_000;
    assert.equal(elector.holdsLease(), true, 'within the renew deadline');
    now += 2_000;
    assert.equal(elector.holdsLease(), false, 'past the renew deadline (10 s), still inside the lease (15 s): no pass may write');
    await pollUntil(() => seen.stopped !== 0, 100);
    assert.equal(seen.stopped, 1);
    await elector.stop();
    await running;
  });
});
