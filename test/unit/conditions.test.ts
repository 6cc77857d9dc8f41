import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCondition, isTrue, setCondition } from '../../src/core/conditions.ts';
import { plan } from '../../src/core/plan.ts';
import { E2E_SPEC, T0, makeUpgrade, sampleMesh } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

const t1 = new Date('2026-11-22T10:00:00Z');
const t2 = new Date('2026-11-22T10:05:00Z');

describe('conditions', () => {
  it('lastTransitionTime moves only when the status changes', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'Installing', message: 'a' }, 1, t1);
    const sameStatus = setCondition(first, { type: 'Ready', status: 'False', reason: 'RollingOut', message: 'b' }, 2, t2);
    assert.equal(findCondition(sameStatus, 'Ready')?.lastTransitionTime, t1.toISOString());
    assert.equal(findCondition(sameStatus, 'Ready')?.reason, 'RollingOut');
    assert.equal(findCondition(sameStatus, 'Ready')?.observedGeneration, 2);
    const changed = setCondition(sameStatus, { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'c' }, 2, t2);
    assert.equal(findCondition(changed, 'Ready')?.lastTransitionTime, t2.toISOString());
    assert.ok(isTrue(changed, 'Ready'));
    assert.equal(changed.length, 1);
  });

  it('every pass sets Ready, Reconciling and Stalled with observedGeneration and CamelCase reasons', () => {
    const mesh = new FakeMesh(sampleMesh());
    walk(makeUpgrade(E2E_SPEC, { generation: 4 }), mesh, {
      beforePass: (_p, upgrade, m, now) => {
        const status = plan(upgrade, m.observed, now).status;
        for (const type of ['Ready', 'Reconciling', 'Stalled'] as const) {
          const c = findCondition(status.conditions ?? [], type);
          assert.ok(c !== undefined, `${type} missing in ${status.phase ?? ''}`);
          assert.equal(c.observedGeneration, 4);
          assert.match(c.reason, /^[A-Z][A-Za-z]*$/);
          assert.ok(c.message.length > 0);
        }
        assert.equal(status.observedGeneration, 4);
        return undefined;
      },
    });
  });

  it('Reconciling is True while work is in progress and Ready only at the end', () => {
    const mesh = new FakeMesh(sampleMesh());
    const first = plan(makeUpgrade(E2E_SPEC), mesh.observed, T0);
    assert.equal(findCondition(first.status.conditions ?? [], 'Reconciling')?.status, 'True');
    assert.equal(findCondition(first.status.conditions ?? [], 'Ready')?.status, 'False');
    assert.equal(findCondition(first.status.conditions ?? [], 'Stalled')?.status, 'False');
  });

  it('a status write with nothing new keeps every lastTransitionTime', () => {
    const mesh = new FakeMesh(sampleMesh());
    const held = walk(makeUpgrade(E2E_SPEC), mesh, { stopWhen: (u) => u.status.phase === 'Soaking' });
    const again = plan(held.upgrade, mesh.observed, new Date(held.now.getTime() + 10_000));
    for (const c of held.upgrade.status.conditions ?? []) {
      assert.equal(findCondition(again.status.conditions ?? [], c.type)?.lastTransitionTime, c.lastTransitionTime, c.type);
    }
  });
});
