import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IstioUpgradeSpecInput, Phase } from '../../src/api/schema.ts';
import { APPROVE_ANNOTATION, ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { findCondition } from '../../src/core/conditions.ts';
import { plan } from '../../src/core/plan.ts';
import { Draft } from '../../src/core/draft.ts';
import type { NamespaceState } from '../../src/core/observed.ts';
import { resolveWaves } from '../../src/core/waves.ts';
import { E2E_SPEC, OLD, T0, makeUpgrade, namespace, pod, sampleMesh, tagWebhook, workload } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

describe('wave resolution', () => {
  const namespaces = [
    namespace('a', { [ISTIO_REV_LABEL]: 'default', tier: 'edge' }),
    namespace('b', { [ISTIO_REV_LABEL]: 'default', tier: 'edge' }),
    namespace('c', { [ISTIO_REV_LABEL]: 'default' }),
    namespace('legacy', { 'istio-injection': 'enabled' }),
    namespace('pinned', { [ISTIO_REV_LABEL]: OLD.revision }),
    namespace('other-tag', { [ISTIO_REV_LABEL]: 'canary' }),
    namespace('plain', {}),
  ];
  const cases: { name: string; spec: Partial<IstioUpgradeSpecInput>; expected: string[][] }[] = [
    { name: 'default: one wave with every namespace on the tag (legacy label included)', spec: {}, expected: [['a', 'b', 'c', 'legacy']] },
    { name: 'explicit, then the rest', spec: { rollout: { waves: [{ name: 'canary', namespaces: ['c'] }, { name: 'rest' }] } }, expected: [['c'], ['a', 'b', 'legacy']] },
    { name: 'selector, then the rest', spec: { rollout: { waves: [{ name: 'edge', namespaceSelector: { matchLabels: { tier: 'edge' } } }, { name: 'rest' }] } }, expected: [['a', 'b'], ['c', 'legacy']] },
    {
      name: 'selector expressions',
      spec: { rollout: { waves: [{ name: 'not-edge', namespaceSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }] } },
      expected: [['c', 'legacy']],
    },
    { name: 'excludeNamespaces applies to every wave', spec: { rollout: { waves: [{ name: 'one', namespaces: ['a', 'b'] }, { name: 'rest' }], excludeNamespaces: ['b', 'legacy'] } }, expected: [['a'], ['c']] },
    { name: 'a namespace claimed twice belongs to the first wave', spec: { rollout: { waves: [{ name: 'one', namespaces: ['a'] }, { name: 'two', namespaceSelector: { matchLabels: { tier: 'edge' } } }] } }, expected: [['a'], ['b']] },
    { name: 'another tag uses its own namespaces', spec: { tag: 'canary' }, expected: [['other-tag']] },
  ];
  // Namespaces are candidates when the tag's webhook selects them: the mesh has tags "default" and "canary".
  const resolve = (spec: Partial<IstioUpgradeSpecInput>, list: readonly NamespaceState[], frozen: Parameters<typeof resolveWaves>[3] = []) => {
    const base = sampleMesh();
    const observed = sampleMesh({ namespaces: list, workloads: [], mutatingWebhooks: [...base.mutatingWebhooks, tagWebhook('canary', OLD.revision)] });
    const upgrade = makeUpgrade(spec);
    return resolveWaves(upgrade.spec, new Draft(upgrade, observed, T0).view, list, frozen);
  };
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(resolve(c.spec, namespaces), c.expected);
    });
  }

  it('a started wave keeps the namespaces it started with', () => {
    const frozen = [{ name: 'all', state: 'InProgress' as const, namespaces: ['a'] }];
    assert.deepEqual(resolve({ rollout: { waves: [{ name: 'all' }] } }, namespaces, frozen), [['a']]);
  });
});

describe('concurrency within a wave', () => {
  for (const limit of [1, 2, 4]) {
    it(`maxConcurrentNamespaces=${limit} never has more namespaces restarting at once`, () => {
      const mesh = new FakeMesh(sampleMesh());
      let maxSeen = 0;
      walk(makeUpgrade({ rollout: { waves: [{ name: 'all', maxConcurrentNamespaces: limit }] } }), mesh, {
        beforePass: (_pass, upgrade, m, now) => {
          const result = plan(upgrade, m.observed, now);
          const namespacesRestarted = new Set(result.actions.filter((a) => a.type === 'restartWorkload').map((a) => a.namespace));
          maxSeen = Math.max(maxSeen, namespacesRestarted.size);
          return undefined;
        },
      });
      assert.ok(maxSeen <= limit, `saw ${maxSeen} namespaces restarting at once`);
      assert.equal(maxSeen, limit, 'uses the concurrency it is given');
    });
  }
});

describe('approval and pause', () => {
  const spec: Partial<IstioUpgradeSpecInput> = {
    ...E2E_SPEC,
    rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', requireApproval: true }] },
  };

  it('requireApproval holds the wave until the annotation names it', () => {
    const mesh = new FakeMesh(sampleMesh());
    const held = walk(makeUpgrade(spec), mesh, { maxPasses: 200, stopWhen: (u) => findCondition(u.status.conditions ?? [], 'Reconciling')?.reason === 'AwaitingApproval' });
    const status = held.upgrade.status;
    assert.equal(status.phase, 'RollingOut');
    assert.equal(status.currentWave, 'rest');
    assert.equal(status.waves?.[1]?.state, 'Pending');
    const reconciling = findCondition(status.conditions ?? [], 'Reconciling');
    assert.match(reconciling?.message ?? '', new RegExp(`kubectl annotate istioupgrade to-1-31-0 ${APPROVE_ANNOTATION}=rest`));
    // Still held an hour later with the wrong annotation, and nothing in "rest" was restarted.
    const wrong = { ...held.upgrade, metadata: { ...held.upgrade.metadata, annotations: { [APPROVE_ANNOTATION]: 'canary' } } };
    const later = plan(wrong, mesh.observed, new Date(held.now.getTime() + 3_600_000));
    assert.deepEqual(later.actions, []);
    assert.equal(findCondition(later.status.conditions ?? [], 'Stalled')?.status, 'False');
    assert.ok(![...mesh.restarts.keys()].some((k) => k.includes('/foo/')));
    // Approved: it goes on to the end.
    const approved = { ...held.upgrade, metadata: { ...held.upgrade.metadata, annotations: { [APPROVE_ANNOTATION]: 'rest' } } };
    const done = walk(approved, mesh, { start: held.now });
    assert.equal(done.upgrade.status.phase, 'Succeeded');
  });

  it('paused halts before the next action and resumes when cleared', () => {
    const mesh = new FakeMesh(sampleMesh());
    // Run until the canary wave is about to restart, pausing just before.
    const before = walk(makeUpgrade(E2E_SPEC), mesh, { stopWhen: (u) => u.status.phase === 'Soaking' && u.status.soak?.target === 'gateways' });
    const paused = { ...before.upgrade, spec: { ...before.upgrade.spec, paused: true } };
    const restartsBefore = mesh.restarts.size;
    const held = walk(paused, mesh, { start: before.now, maxPasses: 150 });
    assert.equal(mesh.restarts.size, restartsBefore, 'nothing restarted while paused');
    const reconciling = findCondition(held.upgrade.status.conditions ?? [], 'Reconciling');
    assert.equal(reconciling?.status, 'False');
    assert.equal(reconciling.reason, 'Paused');
    assert.equal(held.last.requeueAfterMs, undefined);
    assert.equal(held.upgrade.status.phase, 'RollingOut', 'the soak finished; the next restart waits');
    // Nothing has restarted, so no wave may claim to be under way.
    const waveStates = (held.upgrade.status.waves ?? []).map((w) => `${w.name}=${w.state}`);
    assert.deepEqual(waveStates.filter((s) => s.endsWith('=InProgress')), [], `wave states while paused: ${waveStates.join(', ')}`);
    const resumed = walk({ ...held.upgrade, spec: { ...held.upgrade.spec, paused: false } }, mesh, { start: held.now });
    assert.equal(resumed.upgrade.status.phase, 'Succeeded');
    for (const [key, count] of mesh.restarts) assert.equal(count, 1, `${key} restarted ${count} times`);
  });
});

describe('one active upgrade per tag', () => {
  const other = (phase: Phase | undefined, created: string, name = 'older') => ({ name, uid: `uid-${name}`, tags: ['default'], phase, creationTimestamp: created });
  const cases = [
    { name: 'another upgrade is rolling out', others: [other('RollingOut', '2026-11-22T11:00:00Z')], waits: true },
    { name: 'an older one is still pending', others: [other('Pending', '2026-11-22T09:00:00Z')], waits: true },
    { name: 'an older one has not been seen yet', others: [other(undefined, '2026-11-22T09:00:00Z')], waits: true },
    { name: 'a newer one is pending', others: [other('Pending', '2026-11-22T11:00:00Z')], waits: false },
    { name: 'the other one ended', others: [other('Succeeded', '2026-11-22T09:00:00Z')], waits: false },
    { name: 'the other one acts on another tag', others: [{ ...other('RollingOut', '2026-11-22T09:00:00Z'), tags: ['canary'] }], waits: false },
    { name: 'the other one moves this tag as an additional tag', others: [{ ...other('RollingOut', '2026-11-22T09:00:00Z'), tags: ['canary', 'default'] }], waits: true },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.waits ? 'waits' : 'proceeds'}`, () => {
      const result = plan(makeUpgrade(E2E_SPEC), sampleMesh({ otherUpgrades: c.others }), T0);
      if (c.waits) {
        assert.equal(result.status.phase, 'Pending');
        assert.deepEqual(result.actions, []);
        const ready = findCondition(result.status.conditions ?? [], 'Ready');
        assert.equal(ready?.reason, 'WaitingForOtherUpgrade');
        assert.match(ready.message, /IstioUpgrade older/);
        assert.equal(findCondition(result.status.conditions ?? [], 'Stalled')?.status, 'False');
      } else {
        assert.notEqual(result.status.phase, 'Pending');
      }
    });
  }
});

describe('what a namespace holds', () => {
  it('restarts Deployments, StatefulSets and DaemonSets; reports pinned, opted-out workloads and Job and bare pods', () => {
    const mesh = sampleMesh();
    const observed = {
      ...mesh,
      workloads: [
        ...mesh.workloads,
        workload('bar', 'pinned', OLD.revision, { templateLabels: { [ISTIO_REV_LABEL]: OLD.revision } }),
        workload('bar', 'no-sidecar', undefined, { templateLabels: { 'sidecar.istio.io/inject': 'false' } }),
      ],
      otherPods: [...mesh.otherPods, pod('bar', 'bare', OLD.revision)],
    };
    const fake = new FakeMesh(observed);
    const result = walk(makeUpgrade({ ...E2E_SPEC, uninstall: { enabled: false } }), fake);
    assert.equal(result.upgrade.status.phase, 'Succeeded');
    assert.ok(!fake.restarts.has('Deployment/bar/pinned'));
    assert.ok(!fake.restarts.has('Deployment/bar/no-sidecar'));
    const skipped = result.upgrade.status.skippedWorkloads ?? [];
    assert.ok(skipped.some((s) => s.startsWith('Deployment/bar/pinned') && s.includes('pinned to revision')));
    assert.ok(skipped.some((s) => s.startsWith('Deployment/bar/no-sidecar') && s.includes('injection disabled')));
    assert.ok(skipped.some((s) => s.startsWith('Pod/bar/bare') && s.includes('bare pod')));
    assert.ok(skipped.some((s) => s.startsWith('Pod/foo/migrate-x1') && s.includes('Job migrate')));
    assert.equal(result.upgrade.status.workloads?.skipped, 4);
    assert.equal(findCondition(result.upgrade.status.conditions ?? [], 'OldRevisionRemoved')?.reason, 'UninstallDisabled');
  });
});
