// With change tracking, observe joins again only the namespaces whose objects changed since the last pass:
// an unchanged namespace gives back the very same workload objects, a changed one its new state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Caches, NamespaceChanges } from '../../../src/kube/caches.ts';
import type { Store } from '../../../src/kube/informer.ts';
import { workloadsAndPods } from '../../../src/kube/observe.ts';
import { toPodFacts, toReplicaSetFacts, type PodFacts, type ReplicaSetFacts } from '../../../src/kube/to-observed.ts';
import { deploymentKind } from '../../../src/kube/workloads/deployment.ts';
import { toWorkloadFacts, type WorkloadFacts } from '../../../src/kube/workloads/workload-kind.ts';

function store<S extends { namespace: string; name: string }>(items: () => readonly S[]): Store<S> {
  return {
    get: (name, namespace = '') => items().find((i) => i.name === name && i.namespace === namespace),
    list: (namespace) => (namespace === undefined ? items() : items().filter((i) => i.namespace === namespace)),
  };
}

const owned = (kind: string, name: string) => [{ apiVersion: 'v1', kind, name, uid: `uid-${name}`, controller: true }];
const deployment = (namespace: string): WorkloadFacts => toWorkloadFacts(deploymentKind, { metadata: { name: 'app', namespace }, spec: { selector: {}, template: {} } } satisfies V1Deployment);
const replicaSet = (namespace: string): ReplicaSetFacts => toReplicaSetFacts({ metadata: { name: 'app-1', namespace, ownerReferences: owned('Deployment', 'app') } } satisfies V1ReplicaSet);
const pod = (namespace: string, ready: boolean): PodFacts =>
  toPodFacts({ metadata: { name: 'app-1-x', namespace, ownerReferences: owned('ReplicaSet', 'app-1') }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } } satisfies V1Pod);

describe('observe: namespaces joined again only when they changed', () => {
  it('reuses unchanged namespaces and follows changed ones', () => {
    let pods = [pod('a', false), pod('b', false)];
    let changed = new Set(['b', 'a']);
    const changes: NamespaceChanges = {
      takeChanged: () => {
        const taken = changed;
        changed = new Set();
        return taken;
      },
    };
    const empty = store<never>(() => []);
    const caches: Caches = {
      upgrades: { get: () => undefined, list: () => [] },
      namespaces: { get: () => undefined, list: () => [] },
      workloads: [{ kind: 'Deployment', informer: undefined, facts: (ns) => ['a', 'b'].filter((n) => ns === undefined || n === ns).map(deploymentFor) }],
      replicaSets: store(() => [replicaSet('a'), replicaSet('b')]),
      pods: store(() => pods),
      jobs: empty,
      services: empty,
      mutatingWebhooks: { get: () => undefined, list: () => [] },
      validatingWebhooks: { get: () => undefined, list: () => [] },
      installerBindings: { get: () => undefined, list: () => [] },
      namespaceChanges: changes,
    };
    const first = workloadsAndPods({ caches });
    assert.deepEqual(first.workloads.map((w) => [w.namespace, w.pods.map((p) => p.ready)]), [['a', [false]], ['b', [false]]], 'flat lists in namespace name order');
    const firstEpoch = first.namespaceEpochs?.current ?? -1;

    // A pod of "a" becomes ready, and the caches report its namespace.
    pods = [pod('a', true), pods[1] ?? pod('b', false)];
    changed.add('a');
    const second = workloadsAndPods({ caches });
    assert.deepEqual([...(second.namespaceEpochs?.changedSince(firstEpoch) ?? ['unknown'])], ['a'], 'the epochs name the changed namespace');
    assert.deepEqual(second.workloads.map((w) => [w.namespace, w.pods.map((p) => p.ready)]), [['a', [true]], ['b', [false]]]);
    assert.equal(second.workloads[1], first.workloads[1], 'namespace b was not joined again');
    assert.notEqual(second.workloads[0], first.workloads[0]);
    // The planner's grouping: b keeps its arrays (its remembered view stays valid), a gets new ones.
    assert.equal(second.byNamespace.get('b'), first.byNamespace.get('b'));
    assert.notEqual(second.byNamespace.get('a')?.workloads, first.byNamespace.get('a')?.workloads);
    assert.deepEqual([...second.byNamespace.keys()].sort().flatMap((ns) => second.byNamespace.get(ns)?.workloads ?? []), second.workloads);

    // Without a change reported nothing is joined again (the caches say nothing changed), and no epoch passes.
    pods = [pod('a', false), pod('b', true)];
    const third = workloadsAndPods({ caches });
    assert.deepEqual(third.workloads, second.workloads);
    assert.equal(third.namespaceEpochs?.current, second.namespaceEpochs?.current);
    changed = new Set(['b', 'c']);
    const fourth = workloadsAndPods({ caches });
    assert.deepEqual(fourth.workloads.map((w) => [w.namespace, w.pods.map((p) => p.ready)]), [['a', [true]], ['b', [true]]]);
    assert.equal(fourth.byNamespace.has('c'), false, 'a namespace with nothing in it has no entry');
    assert.deepEqual([...(fourth.namespaceEpochs?.changedSince(firstEpoch) ?? [])].sort(), ['a', 'b', 'c'], 'changes since an older epoch add up');
    assert.equal(second.byNamespace.get('b')?.workloads[0]?.pods[0]?.ready, false, 'an earlier pass keeps what it was given');
  });

  it('forgets epochs older than it keeps, and says so', () => {
    let changed = new Set(['a']);
    const caches: Caches = {
      upgrades: { get: () => undefined, list: () => [] },
      namespaces: { get: () => undefined, list: () => [] },
      workloads: [{ kind: 'Deployment', informer: undefined, facts: (ns) => (ns === undefined || ns === 'a' ? [deploymentFor('a')] : []) }],
      replicaSets: store(() => [replicaSet('a')]),
      pods: store(() => [pod('a', true)]),
      jobs: store<never>(() => []),
      services: store<never>(() => []),
      mutatingWebhooks: { get: () => undefined, list: () => [] },
      validatingWebhooks: { get: () => undefined, list: () => [] },
      installerBindings: { get: () => undefined, list: () => [] },
      namespaceChanges: {
        takeChanged: () => {
          const taken = changed;
          changed = new Set(['a']);
          return taken;
        },
      },
    };
    const start = workloadsAndPods({ caches }).namespaceEpochs?.current ?? -1;
    let last = workloadsAndPods({ caches });
    for (let i = 0; i < 70; i++) last = workloadsAndPods({ caches });
    assert.equal(last.namespaceEpochs?.current, start + 71);
    assert.equal(last.namespaceEpochs?.changedSince(start), undefined, 'too old to tell: the planner derives everything again');
    assert.deepEqual([...(last.namespaceEpochs?.changedSince(start + 70) ?? [])], ['a']);
    assert.deepEqual([...(last.namespaceEpochs?.changedSince(start + 71) ?? ['x'])], []);
  });
});

const deployments = new Map<string, WorkloadFacts>();
function deploymentFor(namespace: string): WorkloadFacts {
  let d = deployments.get(namespace);
  if (d === undefined) {
    d = deployment(namespace);
    deployments.set(namespace, d);
  }
  return d;
}
