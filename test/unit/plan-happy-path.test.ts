import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCondition } from '../../src/core/conditions.ts';
import { plan } from '../../src/core/plan.ts';
import { workloadKey } from '../../src/core/workloads.ts';
import { E2E_SPEC, NEW, OLD, T0, makeUpgrade, sampleMesh } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

describe('happy path (canary bar, then the rest)', () => {
  const mesh = new FakeMesh(sampleMesh());
  const result = walk(makeUpgrade(E2E_SPEC), mesh);
  const status = result.upgrade.status;

  it('walks every phase in order and ends Succeeded', () => {
    assert.deepEqual(result.phases, [
      'Prechecking',
      'Installing',
      'SwitchingTag',
      'UpgradingGateways',
      'Soaking', // gateways
      'RollingOut',
      'Soaking', // canary
      'RollingOut',
      'Soaking', // rest
      'Uninstalling',
      'Succeeded',
    ]);
    assert.equal(status.phase, 'Succeeded');
  });

  it('reports Ready=True, Reconciling=False, Stalled=False and every step condition True', () => {
    const conditions = status.conditions ?? [];
    assert.equal(findCondition(conditions, 'Ready')?.status, 'True');
    assert.equal(findCondition(conditions, 'Reconciling')?.status, 'False');
    assert.equal(findCondition(conditions, 'Stalled')?.status, 'False');
    for (const type of ['PrecheckPassed', 'RevisionInstalled', 'TagSwitched', 'GatewaysUpgraded', 'DataPlaneUpgraded', 'SoakPassed', 'OldRevisionRemoved'] as const) {
      assert.equal(findCondition(conditions, type)?.status, 'True', `${type} should be True`);
    }
  });

  it('moves the tag to the new revision and removes the old one', () => {
    assert.equal(mesh.tagRevision(), NEW.revision);
    assert.deepEqual(mesh.observed.revisions.map((r) => r.revision), [NEW.revision]);
    assert.equal(status.fromRevision, OLD.revision);
    assert.equal(status.toRevision, NEW.revision);
  });

  it('restarts every Deployment, StatefulSet and DaemonSet exactly once and never the Job pod', () => {
    const expected = mesh.observed.workloads.filter((w) => w.namespace !== 'default').map(workloadKey).sort();
    assert.deepEqual([...mesh.restarts.keys()].sort(), expected);
    for (const [key, count] of mesh.restarts) assert.equal(count, 1, `${key} restarted ${count} times`);
    assert.ok(status.skippedWorkloads?.some((s) => s.includes('migrate-x1') && s.includes('Job')), 'the Job pod is reported');
  });

  it('runs each installer Job once: precheck, install, uninstall', () => {
    assert.deepEqual([...mesh.jobRuns.values()], [1, 1, 1]);
    assert.deepEqual([...mesh.jobRuns.keys()].map((k) => k.split('-').at(-2)), ['precheck', 'install', 'uninstall']);
  });

  it('runs the canary wave first and alone, then the rest', () => {
    assert.deepEqual(status.waves?.map((w) => [w.name, w.state, w.namespaces]), [
      ['canary', 'Succeeded', ['bar']],
      ['rest', 'Succeeded', ['baz', 'foo', 'istio-ingress', 'qux']],
    ]);
    assert.deepEqual(status.workloads, { total: 11, upgraded: 11, pending: 0, skipped: 1 });
    assert.equal(status.upgraded, '11/11');
  });

  it('emits one Event per step: never two with the same message in a pass, never a phase twice in a row', () => {
    const all = result.eventsByPass.flat();
    for (const [index, events] of result.eventsByPass.entries()) {
      const messages = events.map((e) => e.message);
      assert.equal(new Set(messages).size, messages.length, `pass ${index} emitted the same message twice: ${messages.join(' | ')}`);
    }
    const repeated = all.filter((event, index) => index > 0 && all[index - 1]?.reason === event.reason && all[index - 1]?.message === event.message);
    assert.deepEqual(repeated, []);
    // Every phase the upgrade entered is announced by exactly one Event of that reason.
    for (const phase of ['Prechecking', 'Installing', 'SwitchingTag', 'UpgradingGateways', 'Uninstalling', 'Succeeded']) {
      assert.equal(all.filter((e) => e.reason === phase).length, 1, `Events with reason ${phase}: ${all.filter((e) => e.reason === phase).length}`);
    }
  });

  it('takes at least the soak and grace periods of wall time', () => {
    const elapsed = result.now.getTime() - T0.getTime();
    // three soaks of 5m (gateways, canary, rest) and a 10m grace period
    assert.ok(elapsed >= 25 * 60_000, `elapsed ${elapsed}ms`);
  });

  it('does nothing more once terminal', () => {
    const again = plan(result.upgrade, mesh.observed, new Date(result.now.getTime() + 3_600_000));
    assert.deepEqual(again.actions, []);
    assert.equal(again.requeueAfterMs, undefined);
    assert.equal(again.status, result.upgrade.status);
  });
});
