// Crash and resume: planning is a function of (upgrade, observed, now), and every action is recognisable in
// the cluster afterwards, so a crash at any point never repeats a restart or a Job.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plan } from '../../src/core/plan.ts';
import { E2E_SPEC, at, makeUpgrade, minutes, sampleMesh } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

describe('crash and resume', () => {
  it('plans the same result twice from the same state, at every pass of an upgrade', () => {
    const mesh = new FakeMesh(sampleMesh());
    let compared = 0;
    const result = walk(makeUpgrade(E2E_SPEC), mesh, {
      beforePass: (_pass, upgrade, m, now) => {
        assert.deepEqual(plan(upgrade, m.observed, now), plan(upgrade, m.observed, now));
        compared += 1;
        return undefined;
      },
    });
    assert.equal(result.upgrade.status.phase, 'Succeeded');
    assert.ok(compared > 10);
  });

  it('after a crash between executing and writing status, no second restart and no repeated step', () => {
    const mesh = new FakeMesh(sampleMesh(), { rolloutPasses: 3 });
    const upgrade = makeUpgrade(E2E_SPEC);
    // Find a pass that restarts workloads, execute it, lose the status write, and plan again.
    let state = upgrade;
    let now = at(0);
    for (let pass = 0; pass < 200; pass++) {
      mesh.tick();
      const result = plan(state, mesh.observed, now);
      const restarts = result.actions.filter((a) => a.type === 'restartWorkload');
      for (const action of result.actions) mesh.apply(action, now);
      if (restarts.length > 0 && state.status.currentWave === 'canary') {
        // crash: status not written; the resumed operator plans from the old status
        const resumed = plan(state, mesh.observed, new Date(now.getTime() + 1000));
        const again = resumed.actions.filter((a) => a.type === 'restartWorkload' && restarts.some((r) => r.namespace === a.namespace && r.name === a.name));
        assert.deepEqual(again, [], 'no workload is restarted twice');
        assert.deepEqual(resumed.actions.filter((a) => a.type === 'runInstallerJob'), [], 'no Job is run twice');
        return;
      }
      state = { ...state, status: result.status };
      now = new Date(now.getTime() + Math.min(result.requeueAfterMs ?? minutes(1), minutes(1)));
    }
    assert.fail('never reached the canary restarts');
  });

  // Rollouts take 3 passes here, so a resumed planner sees restarted workloads still on the old revision: only
  // the restart stamp tells it not to restart them again (remove the stamp check and this fails).
  for (const every of [2, 3, 5]) {
    it(`crashing after every ${every}th pass still restarts each workload once and runs each Job once (slow rollouts)`, () => {
      const mesh = new FakeMesh(sampleMesh(), { rolloutPasses: 3 });
      const result = walk(makeUpgrade(E2E_SPEC), mesh, { crashAfterActions: (pass) => pass % every === every - 1 });
      for (const [key, count] of mesh.restarts) assert.equal(count, 1, `${key} restarted ${count} times`);
      assert.equal(result.upgrade.status.phase, 'Succeeded');
      assert.equal(mesh.restarts.size, 11);
      // A Job create may be re-sent after a crash; it is the same Job (same name), which the cluster refuses.
      assert.equal(mesh.observed.jobs.length, 3);
      assert.ok(mesh.tagWrites.includes('default->1-31-0'), `tag writes: ${mesh.tagWrites.join(', ')}`);
    });
  }
});
