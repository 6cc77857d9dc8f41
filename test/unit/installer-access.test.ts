// The installer account holds its role only while one of its Jobs runs: the binding is written with the Job
// (src/kube) and the planner asks for its removal once that Job has finished, whatever the phase.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObservedState } from '../../src/core/observed.ts';
import { plan } from '../../src/core/plan.ts';
import { E2E_SPEC, makeUpgrade, sampleMesh } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

const T = new Date('2026-11-22T10:00:00.000Z');

function observedWith(base: ObservedState, grantedFor: string | undefined, jobs: ObservedState['jobs']): ObservedState {
  return { ...base, jobs, installerAccess: grantedFor === undefined ? undefined : { grantedFor } };
}

describe('installer access (binding only while a Job runs)', () => {
  it('revokes after each Job of a whole upgrade, and nothing is left granted at the end', () => {
    const mesh = new FakeMesh(sampleMesh());
    const result = walk(makeUpgrade(E2E_SPEC), mesh);
    assert.equal(result.upgrade.status.phase, 'Succeeded');
    assert.deepEqual(mesh.revocations.map((j) => j.split('-').at(-2)), ['precheck', 'install', 'uninstall']);
    assert.equal(mesh.observed.installerAccess, undefined);
  });

  it('revokes after a failed Job that ends the upgrade', () => {
    const mesh = new FakeMesh(sampleMesh(), { jobOutcome: { precheck: 'Failed' } });
    const result = walk(makeUpgrade(E2E_SPEC), mesh);
    assert.equal(result.upgrade.status.phase, 'Failed');
    assert.equal(mesh.revocations.length, 1);
    assert.equal(mesh.observed.installerAccess, undefined);
  });

  const cases: { name: string; grantedFor: string | undefined; jobs: ObservedState['jobs']; revoke: string[] }[] = [
    { name: 'nothing granted', grantedFor: undefined, jobs: [{ name: 'a-install-1', outcome: 'Succeeded', message: undefined, completedAt: T.toISOString() }], revoke: [] },
    { name: 'the Job still runs', grantedFor: 'a-install-1', jobs: [{ name: 'a-install-1', outcome: 'Running', message: undefined, completedAt: undefined }], revoke: [] },
    { name: 'granted for a Job of another upgrade', grantedFor: 'b-install-2', jobs: [{ name: 'a-install-1', outcome: 'Succeeded', message: undefined, completedAt: T.toISOString() }], revoke: [] },
    { name: 'the Job succeeded', grantedFor: 'a-install-1', jobs: [{ name: 'a-install-1', outcome: 'Succeeded', message: undefined, completedAt: T.toISOString() }], revoke: ['a-install-1'] },
    { name: 'the Job failed', grantedFor: 'a-install-1', jobs: [{ name: 'a-install-1', outcome: 'Failed', message: 'boom', completedAt: T.toISOString() }], revoke: ['a-install-1'] },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.revoke.length === 0 ? 'keeps the binding' : 'revokes it'}, even when the upgrade is terminal or paused`, () => {
      const base = sampleMesh();
      for (const upgrade of [makeUpgrade(E2E_SPEC), { ...makeUpgrade({ ...E2E_SPEC, paused: true }) }, { ...makeUpgrade(E2E_SPEC), status: { phase: 'Failed' as const } }]) {
        const result = plan(upgrade, observedWith(base, c.grantedFor, c.jobs), T);
        const revoked = result.actions.filter((a) => a.type === 'revokeInstallerAccess').map((a) => a.jobName);
        assert.deepEqual(revoked, c.revoke, `phase ${upgrade.status.phase ?? 'new'}, paused ${String(upgrade.spec.paused)}`);
      }
    });
  }
});
