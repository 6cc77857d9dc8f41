// After the switch, a moved tag that someone points back at the old revision is written again before any
// restart (a restart then would inject the old proxy); one that keeps being reverted fails the upgrade.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IstioUpgrade } from '../../src/api/schema.ts';
import { MAX_TAG_REVERTS } from '../../src/core/tag-guard.ts';
import { E2E_SPEC, NEW, OLD, makeUpgrade, sampleMesh, tagWebhook } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

/** Points the default tag back at the old revision, as another writer would. */
function revert(mesh: FakeMesh): void {
  const old = tagWebhook('default', OLD.revision);
  mesh.observed = { ...mesh.observed, mutatingWebhooks: [...mesh.observed.mutatingWebhooks.filter((w) => w.name !== old.name), old] };
}

interface Case {
  readonly name: string;
  /** Whether to revert the tag before this pass. */
  readonly revertWhen: (upgrade: IstioUpgrade, reverted: number) => boolean;
  readonly phase: string;
  readonly reason?: string;
  readonly reverts: number;
}

const inPhase = (upgrade: IstioUpgrade, phase: string) => upgrade.status.phase === phase;

const cases: Case[] = [
  { name: 'once during the rollout: written again, the upgrade finishes', revertWhen: (u, n) => n < 1 && inPhase(u, 'RollingOut'), phase: 'Succeeded', reverts: 1 },
  { name: 'once during the gateways step and once during a soak: both undone', revertWhen: (u, n) => (n === 0 && inPhase(u, 'UpgradingGateways')) || (n === 1 && inPhase(u, 'Soaking')), phase: 'Succeeded', reverts: 2 },
  { name: 'on every pass of the rollout: TagReverted, rolled back', revertWhen: (u) => inPhase(u, 'RollingOut'), phase: 'RolledBack', reason: 'TagReverted', reverts: MAX_TAG_REVERTS },
];

describe('moved tags are held on the new revision', () => {
  for (const c of cases) {
    it(c.name, () => {
      const mesh = new FakeMesh(sampleMesh());
      let reverted = 0;
      const restartedWhileReverted: string[] = [];
      const result = walk(makeUpgrade(E2E_SPEC), mesh, {
        beforePass: (_pass, upgrade) => {
          if (c.revertWhen(upgrade, reverted)) {
            revert(mesh);
            reverted += 1;
          }
          return upgrade;
        },
        afterPlan: (planned) => {
          const rollingBack = planned.status.phase === 'RollingBack' || planned.status.phase === 'RolledBack';
          if (!rollingBack && mesh.tagRevision() === OLD.revision) {
            restartedWhileReverted.push(...planned.actions.flatMap((a) => (a.type === 'restartWorkload' || a.type === 'evictPod' ? [`${a.type} ${a.namespace}/${a.name}`] : [])));
          }
        },
      });
      assert.equal(result.upgrade.status.phase, c.phase, JSON.stringify(result.upgrade.status.failure));
      if (c.reason !== undefined) assert.equal(result.upgrade.status.failure?.reason, c.reason);
      assert.equal(result.upgrade.status.tagReverts ?? 0, c.reverts);
      // Outside the rollback, nothing is restarted in a pass that saw the tag on the old revision.
      assert.deepEqual(restartedWhileReverted, []);
      assert.ok(reverted > 0, 'the case reverted the tag');
      if (c.phase === 'Succeeded') {
        assert.equal(mesh.tagRevision(), NEW.revision);
        for (const [key, count] of mesh.restarts) assert.equal(count, 1, `${key} restarted ${count} times`);
      }
    });
  }
});
