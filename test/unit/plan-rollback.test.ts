// A failure in any phase after the precheck rolls back (tag to the old revision, moved workloads restarted
// back) when rollback.automatic is set, and ends Failed without it; failures that nothing can undo end Failed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IstioUpgrade, IstioUpgradeSpecInput } from '../../src/api/schema.ts';
import { findCondition } from '../../src/core/conditions.ts';
import { workloadOnRevision } from '../../src/core/workloads.ts';
import { E2E_SPEC, NEW, OLD, makeUpgrade, pod, sampleMesh } from '../support/fixtures.ts';
import { FakeMesh, walk, type FakeMeshOptions, type WalkOptions } from '../support/fake-mesh.ts';

const PROMETHEUS: Partial<IstioUpgradeSpecInput> = {
  soak: {
    duration: '5m',
    prometheus: { address: 'http://prometheus:9090', interval: '30s', failureLimit: 1, checks: [{ name: 'error-ratio', query: 'ratio{ns=~"{{namespaces}}"}', max: 0.01 }] },
  },
};

interface Case {
  readonly phase: string;
  readonly reason: string;
  readonly mesh?: FakeMeshOptions;
  readonly walk?: WalkOptions;
  /** Whether anything had moved to the new revision before the failure. */
  readonly moved: boolean;
}

const removeNewRevisionWhileSwitching: WalkOptions['beforePass'] = (_pass, upgrade: IstioUpgrade, mesh) => {
  if (upgrade.status.phase === 'SwitchingTag') {
    mesh.observed = { ...mesh.observed, revisions: mesh.observed.revisions.filter((r) => r.revision !== NEW.revision) };
  }
  return undefined;
};

const cases: Case[] = [
  { phase: 'Installing', reason: 'InstallFailed', mesh: { jobOutcome: { install: 'Failed' }, jobMessage: 'Error: failed to install manifests' }, moved: false },
  { phase: 'SwitchingTag', reason: 'RevisionLost', mesh: { tagWritesIgnored: true }, walk: { beforePass: removeNewRevisionWhileSwitching }, moved: false },
  { phase: 'UpgradingGateways', reason: 'GatewayUpgradeTimeout', mesh: { stuck: new Set(['Deployment/istio-ingress/istio-ingressgateway']) }, moved: true },
  { phase: 'RollingOut', reason: 'WorkloadTimeout', mesh: { stuck: new Set(['Deployment/bar/bar-b']) }, moved: true },
  {
    phase: 'Soaking',
    reason: 'SoakFailed',
    walk: { errorRatio: (namespaces) => (namespaces.includes('bar') ? 0.5 : 0) },
    moved: true,
  },
];

describe('rollback from every failing phase', () => {
  for (const c of cases) {
    it(`${c.phase}: automatic rollback ends RolledBack with Stalled=True ${c.reason}`, () => {
      const mesh = new FakeMesh(sampleMesh(), c.mesh);
      const spec = c.phase === 'Soaking' ? { ...E2E_SPEC, ...PROMETHEUS } : E2E_SPEC;
      const result = walk(makeUpgrade(spec), mesh, c.walk);
      const status = result.upgrade.status;
      assert.equal(status.phase, 'RolledBack', `phases: ${result.phases.join(' > ')}`);
      assert.equal(status.failure?.phase, c.phase);
      assert.equal(status.failure.reason, c.reason);
      const stalled = findCondition(status.conditions ?? [], 'Stalled');
      assert.equal(stalled?.status, 'True');
      assert.equal(stalled.reason, c.reason);
      assert.match(stalled.message, new RegExp(`rolled back to revision ${OLD.revision}`));
      assert.equal(findCondition(status.conditions ?? [], 'Ready')?.status, 'False');
      assert.equal(mesh.tagRevision(), OLD.revision, 'the tag points at the old revision again');
      // every workload the upgrade touched runs the old proxy again, each restarted at most twice (there and back)
      for (const w of mesh.observed.workloads) {
        if (mesh.restarts.has(`${w.kind}/${w.namespace}/${w.name}`)) {
          assert.ok(workloadOnRevision(w, OLD.revision), `${w.namespace}/${w.name} is back on ${OLD.revision}`);
        }
      }
      for (const [key, count] of mesh.restarts) assert.ok(count <= 2, `${key} restarted ${count} times`);
      assert.equal([...mesh.restarts.values()].some((n) => n === 2), c.moved, 'moved workloads were restarted back');
      assert.ok(mesh.observed.revisions.some((r) => r.revision === OLD.revision), 'the old revision is never removed on rollback');
    });

    it(`${c.phase}: without automatic rollback ends Failed and leaves things where they are`, () => {
      const mesh = new FakeMesh(sampleMesh(), c.mesh);
      const spec = { ...(c.phase === 'Soaking' ? { ...E2E_SPEC, ...PROMETHEUS } : E2E_SPEC), rollback: { automatic: false } };
      const result = walk(makeUpgrade(spec), mesh, c.walk);
      assert.equal(result.upgrade.status.phase, 'Failed');
      assert.ok(!result.phases.includes('RollingBack'));
      const stalled = findCondition(result.upgrade.status.conditions ?? [], 'Stalled');
      assert.equal(stalled?.status, 'True');
      assert.equal(stalled.reason, c.reason);
      for (const [key, count] of mesh.restarts) assert.equal(count, 1, `${key} restarted ${count} times`);
    });
  }

  it('Uninstalling: a failed uninstall ends Failed and keeps the data plane on the new revision', () => {
    const mesh = new FakeMesh(sampleMesh(), { jobOutcome: { uninstall: 'Failed' } });
    const result = walk(makeUpgrade(E2E_SPEC), mesh);
    assert.equal(result.upgrade.status.phase, 'Failed');
    assert.equal(result.upgrade.status.failure?.reason, 'UninstallFailed');
    assert.ok(!result.phases.includes('RollingBack'));
    assert.equal(mesh.tagRevision(), NEW.revision);
  });

  it('Prechecking: a failed istioctl precheck ends Failed with its output', () => {
    const mesh = new FakeMesh(sampleMesh(), { jobOutcome: { precheck: 'Failed' }, jobMessage: 'Error [IST0139] webhook overlaps' });
    const result = walk(makeUpgrade(E2E_SPEC), mesh);
    assert.equal(result.upgrade.status.phase, 'Failed');
    assert.equal(result.upgrade.status.failure?.reason, 'PrecheckFailed');
    assert.match(result.upgrade.status.failure.message, /IST0139/);
    assert.deepEqual(mesh.tagWrites, []);
    assert.equal(mesh.restarts.size, 0);
  });

  it('RollingBack: a rollback that cannot finish ends Failed with RollbackFailed naming both failures', () => {
    // bar-b never finishes any rollout: the rollout times out, then its rollback does.
    const mesh = new FakeMesh(sampleMesh(), { stuckAlways: new Set(['Deployment/bar/bar-b']) });
    const result = walk(makeUpgrade(E2E_SPEC), mesh);
    assert.equal(result.upgrade.status.phase, 'Failed');
    assert.equal(result.upgrade.status.failure?.reason, 'RollbackFailed');
    assert.match(result.upgrade.status.failure.message, /rolling back after WorkloadTimeout/);
    assert.equal(mesh.tagRevision(), OLD.revision, 'the tag went back before the rollback stalled');
  });

  it('SwitchingTag: a tag that does not take (another writer reverts it) fails with TagSwitchTimeout instead of re-applying forever', () => {
    const mesh = new FakeMesh(sampleMesh(), { tagWritesIgnored: true });
    const result = walk(makeUpgrade({ ...E2E_SPEC, rollout: { ...E2E_SPEC.rollout, workloadTimeout: '2m' } }), mesh);
    assert.equal(result.upgrade.status.failure?.reason, 'TagSwitchTimeout');
    assert.match(result.upgrade.status.failure.message, /another writer may revert it/);
    assert.ok(mesh.tagWrites.length < 40, `${mesh.tagWrites.length} writes`);
  });
});

describe('rollback waits instead of giving up, and says what it leaves behind', () => {
  it('waits while the old istiod is briefly not Ready, then moves the tag back and restarts what moved', () => {
    let downPasses = 0;
    const reasons = new Set<string>();
    const mesh = new FakeMesh(sampleMesh(), { stuck: new Set(['Deployment/bar/bar-b']) });
    const result = walk(makeUpgrade(E2E_SPEC), mesh, {
      beforePass: (_pass, upgrade, m) => {
        // The old istiod is not Ready when the failure comes, and for the first 3 passes of the rollback.
        if (upgrade.status.phase === 'RollingBack') {
          downPasses += 1;
          reasons.add(findCondition(upgrade.status.conditions ?? [], 'Ready')?.reason ?? '');
        }
        const ready = !(['RollingOut', 'RollingBack'].includes(upgrade.status.phase ?? '') && downPasses < 3);
        m.observed = { ...m.observed, revisions: m.observed.revisions.map((r) => (r.revision === OLD.revision ? { ...r, ready } : r)) };
        return undefined;
      },
    });
    assert.equal(result.upgrade.status.phase, 'RolledBack', result.phases.join(' > '));
    assert.ok(reasons.has('WaitingForOldRevision'), [...reasons].join(', '));
    assert.equal(mesh.tagRevision(), OLD.revision);
  });

  it('gives up with RollbackFailed only after workloadTimeout', () => {
    const mesh = new FakeMesh(sampleMesh(), { stuck: new Set(['Deployment/bar/bar-b']) });
    const result = walk(makeUpgrade(E2E_SPEC), mesh, {
      beforePass: (_pass, upgrade, m) => {
        if (['RollingOut', 'RollingBack'].includes(upgrade.status.phase ?? '')) m.observed = { ...m.observed, revisions: m.observed.revisions.map((r) => (r.revision === OLD.revision ? { ...r, ready: false } : r)) };
        return undefined;
      },
    });
    assert.equal(result.upgrade.status.failure?.reason, 'RollbackFailed');
    assert.match(result.upgrade.status.failure.message, /cannot point tag "default" back at 1-30-4 within 10m/);
  });

  it('lists pods on the new revision that it does not restart (Jobs, bare pods)', () => {
    const mesh = new FakeMesh(sampleMesh(), { stuck: new Set(['Deployment/qux/qux-b']) });
    const result = walk(makeUpgrade(E2E_SPEC), mesh, {
      beforePass: (_pass, upgrade, m) => {
        // A bare pod created while the tag pointed at the new revision got the new proxy.
        if (upgrade.status.phase === 'RollingOut' && !m.observed.otherPods.some((p) => p.name === 'debug')) {
          m.observed = { ...m.observed, otherPods: [...m.observed.otherPods, pod('bar', 'debug', NEW.revision)] };
        }
        return undefined;
      },
    });
    assert.equal(result.upgrade.status.phase, 'RolledBack');
    assert.deepEqual(result.upgrade.status.rollback?.notMovedBack, ['bar/debug (bare pod)']);
  });

  it('with removeNewRevision, uninstalls the canary revision once nothing uses it', () => {
    const mesh = new FakeMesh(sampleMesh(), { stuck: new Set(['Deployment/bar/bar-b']) });
    const result = walk(makeUpgrade({ ...E2E_SPEC, rollback: { removeNewRevision: true } }), mesh);
    assert.equal(result.upgrade.status.phase, 'RolledBack', result.phases.join(' > '));
    assert.ok(mesh.observed.jobs.some((j) => j.name.includes('-uninstall-new-')));
    assert.ok(!mesh.observed.revisions.some((r) => r.revision === NEW.revision));
    assert.ok(mesh.observed.revisions.some((r) => r.revision === OLD.revision));
  });
});
