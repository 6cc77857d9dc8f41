// A namespace's view is remembered while its arrays and its inputs are the same, and always equals a fresh one;
// and the planner decides exactly the same whether observe groups the mesh by namespace (arrays kept across
// passes, as in the operator) or the planner groups it itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ISTIO_REV_LABEL, RESTARTED_FOR_ANNOTATION } from '../../src/api/constants.ts';
import type { IstioUpgradeSpecInput } from '../../src/api/schema.ts';
import { NamespaceEpochLog } from '../../src/core/namespace-epochs.ts';
import { NamespaceView, namespaceView } from '../../src/core/namespace-view.ts';
import type { NamespaceObjects, ObservedState, WorkloadState } from '../../src/core/observed.ts';
import { sameItems } from '../../src/core/same-items.ts';
import type { ScopeContext } from '../../src/core/scope.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';
import { E2E_SPEC, NEW, OLD, makeUpgrade, namespace, pod, sampleMesh, shopScopeContext, workload } from '../support/fixtures.ts';

const onTag = { [ISTIO_REV_LABEL]: 'default' };
const base: ScopeContext = shopScopeContext();

function summary(view: NamespaceView): string {
  const rollout = view.rollout('default', NEW.revision, `uid/${NEW.revision}`);
  return `tags=${[...view.movedTags].join(',')} adopted=${view.adopted} moved=${rollout.moved.length} upgraded=${rollout.upgraded} started=${rollout.started} skipped=${view.skippedLines().length}`;
}

describe('namespace view remembered across passes', () => {
  const objects: NamespaceObjects = {
    workloads: [workload('shop', 'cart', OLD.revision), workload('shop', 'db', OLD.revision, { templateAnnotations: { 'sidecar.istio.io/inject': 'false' } })],
    otherPods: [pod('shop', 'job-1', OLD.revision, { owner: { kind: 'Job', name: 'job' } })],
  };
  /** One change of the context per row, applied to the same arrays in turn. */
  const steps: { name: string; context: ScopeContext; expect: string }[] = [
    { name: 'on the tag', context: base, expect: 'tags=default adopted=false moved=1 upgraded=0 started=false skipped=2' },
    { name: 'pinned to the old revision', context: { ...base, namespaces: new Map([['shop', { [ISTIO_REV_LABEL]: OLD.revision }]]) }, expect: 'tags= adopted=false moved=0 upgraded=0 started=false skipped=3' },
    { name: 'pinned, adoption on', context: { ...base, namespaces: new Map([['shop', { [ISTIO_REV_LABEL]: OLD.revision }]]), adoptPinnedNamespaces: true }, expect: 'tags=default adopted=true moved=1 upgraded=0 started=false skipped=2' },
    { name: 'excluded', context: { ...base, excludedNamespaces: new Set(['shop']) }, expect: 'tags= adopted=false moved=0 upgraded=0 started=false skipped=3' },
    { name: 'another tag moved', context: { ...base, tags: ['canary'] }, expect: 'tags= adopted=false moved=0 upgraded=0 started=false skipped=3' },
    { name: 'back on the tag (equal, new objects)', context: { ...base, namespaces: new Map([['shop', { ...onTag }]]), webhooks: [...base.webhooks] }, expect: 'tags=default adopted=false moved=1 upgraded=0 started=false skipped=2' },
  ];

  it('follows every change of its inputs, and equals a fresh view each time', () => {
    for (const step of steps) {
      const view = namespaceView('shop', objects, step.context);
      assert.equal(summary(view), step.expect, step.name);
      assert.equal(summary(new NamespaceView('shop', { workloads: [...objects.workloads], otherPods: [...objects.otherPods] }, step.context)), step.expect, step.name);
    }
  });

  it('returns the same view, and the same derived answers, while nothing changed', () => {
    const first = namespaceView('shop', objects, base);
    const again = namespaceView('shop', objects, { ...base, tags: ['default'], excludedNamespaces: new Set(['elsewhere']) });
    assert.equal(again, first);
    assert.equal(again.rollout('default', NEW.revision, 'uid/x'), first.rollout('default', NEW.revision, 'uid/x'));
    assert.equal(again.skippedLines(), first.skippedLines());
    assert.notEqual(first.rollout('default', NEW.revision, 'uid/y'), first.rollout('default', NEW.revision, 'uid/x'), 'another stamp is another question');
  });

  it('a changed workload comes as a new array: the progress is computed afresh', () => {
    const before = namespaceView('shop', objects, base).rollout('default', NEW.revision, 'uid/x');
    const cart = objects.workloads[0];
    assert.ok(cart !== undefined);
    const restarted: WorkloadState = { ...workload('shop', 'cart', NEW.revision), templateAnnotations: { [RESTARTED_FOR_ANNOTATION]: 'uid/x' } };
    const after = namespaceView('shop', { ...objects, workloads: [restarted, ...objects.workloads.slice(1)] }, base).rollout('default', NEW.revision, 'uid/x');
    assert.deepEqual([before.upgraded, before.started], [0, false]);
    assert.deepEqual([after.upgraded, after.started], [1, true]);
  });

  it('two namespaces that share one (empty) array each get their own view', () => {
    const empty: NamespaceObjects = { workloads: [], otherPods: [] };
    assert.equal(namespaceView('a', empty, base).name, 'a');
    assert.equal(namespaceView('b', empty, base).name, 'b');
  });
});

/** observe's grouping: one entry per namespace, the previous arrays while the namespace's objects are the same. */
function groupedLikeObserve(observed: ObservedState, previous: Map<string, NamespaceObjects>): Map<string, NamespaceObjects> {
  const names = [...new Set([...observed.workloads.map((w) => w.namespace), ...observed.otherPods.map((p) => p.namespace)])].sort();
  const grouped = new Map<string, NamespaceObjects>();
  for (const name of names) {
    const fresh = { workloads: observed.workloads.filter((w) => w.namespace === name), otherPods: observed.otherPods.filter((p) => p.namespace === name) };
    const old = previous.get(name);
    grouped.set(name, old !== undefined && sameItems(old.workloads, fresh.workloads) && sameItems(old.otherPods, fresh.otherPods) ? old : fresh);
  }
  return grouped;
}

function meshForComparison(): ObservedState {
  const extra = ['t1', 't2', 't3', 't4', 't5'];
  return sampleMesh({
    namespaces: [...sampleMesh().namespaces, ...extra.map((n) => namespace(n)), namespace('pinned', { [ISTIO_REV_LABEL]: OLD.revision })],
    workloads: [
      ...sampleMesh().workloads,
      ...extra.flatMap((n) => [workload(n, 'a', OLD.revision), workload(n, 'b', OLD.revision)]),
      workload('pinned', 'legacy-app', OLD.revision),
      workload('t1', 'no-sidecar', OLD.revision, { templateAnnotations: { 'sidecar.istio.io/inject': 'false' } }),
    ],
    otherPods: [pod('t2', 'bare', OLD.revision)],
  });
}

describe('the planner with and without observe grouping by namespace', () => {
  const scenarios: { name: string; spec: Partial<IstioUpgradeSpecInput>; errorRatio?: (namespaces: readonly string[]) => number }[] = [
    { name: 'canary then the rest, two at a time, a pinned namespace adopted', spec: { ...E2E_SPEC, rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 2 }], adoptPinnedNamespaces: true } } },
    { name: 'one wave of everything, one at a time', spec: { ...E2E_SPEC, rollout: { waves: [{ name: 'all', maxConcurrentNamespaces: 1 }] } } },
    { name: 'a failing soak in the rest wave rolls back', spec: E2E_SPEC, errorRatio: (namespaces) => (namespaces.includes('t3') ? 0.5 : 0) },
  ];
  for (const scenario of scenarios) {
    it(`${scenario.name}: the same statuses, actions and events, pass by pass`, () => {
      // grouped: observe's grouping; epochs: with it, the numbered changes that let the tallies update only those.
      const trace = (grouped: boolean, epochs = false) => {
        const mesh = new FakeMesh(meshForComparison());
        const log = new NamespaceEpochLog();
        let previous = new Map<string, NamespaceObjects>();
        const passes: string[] = [];
        const result = walk(makeUpgrade(scenario.spec), mesh, {
          maxPasses: 400,
          ...(scenario.errorRatio === undefined ? {} : { errorRatio: scenario.errorRatio }),
          // The fake mesh never groups; the grouped run regroups before every pass, after the mesh moved.
          beforePass: (_pass, upgrade, m) => {
            if (grouped) {
              const next = groupedLikeObserve(m.observed, previous);
              log.record(new Set([...next.keys(), ...previous.keys()].filter((ns) => next.get(ns) !== previous.get(ns))));
              previous = next;
              m.observed = { ...m.observed, byNamespace: previous, ...(epochs ? { namespaceEpochs: log } : {}) };
            }
            return upgrade;
          },
          afterPlan: (planned) => passes.push(JSON.stringify([planned.status, planned.actions, planned.events])),
        });
        return { phase: result.upgrade.status.phase, passes };
      };
      const plain = trace(false);
      const grouped = trace(true);
      const withEpochs = trace(true, true);
      assert.ok(plain.passes.length > 5, `${plain.passes.length} passes`);
      assert.equal(grouped.phase, plain.phase);
      assert.deepEqual(grouped.passes, plain.passes);
      assert.equal(withEpochs.phase, plain.phase);
      assert.deepEqual(withEpochs.passes, plain.passes);
    });
  }
});
