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
    const versions = new Map([['a', 1], ['b', 1]]);
    const changes: NamespaceChanges = { version: (ns) => versions.get(ns) ?? 0, namespaces: () => [...versions.keys()].sort() };
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
    assert.deepEqual(first.workloads.map((w) => [w.namespace, w.pods.map((p) => p.ready)]), [['a', [false]], ['b', [false]]]);

    // A pod of "a" becomes ready, and its namespace's counter moves.
    pods = [pod('a', true), pods[1] ?? pod('b', false)];
    versions.set('a', 2);
    const second = workloadsAndPods({ caches });
    assert.deepEqual(second.workloads.map((w) => [w.namespace, w.pods.map((p) => p.ready)]), [['a', [true]], ['b', [false]]]);
    assert.equal(second.workloads[1], first.workloads[1], 'namespace b was not joined again');
    assert.notEqual(second.workloads[0], first.workloads[0]);
    // The planner's grouping: b keeps its arrays (its remembered view stays valid), a gets new ones.
    assert.equal(second.byNamespace.get('b'), first.byNamespace.get('b'));
    assert.notEqual(second.byNamespace.get('a')?.workloads, first.byNamespace.get('a')?.workloads);
    assert.deepEqual([...second.byNamespace.values()].flatMap((n) => n.workloads), second.workloads);

    // Without a counter move nothing is joined again (the caches say nothing changed).
    pods = [pod('a', false), pod('b', true)];
    assert.deepEqual(workloadsAndPods({ caches }).workloads, second.workloads);
    versions.set('b', 2);
    versions.set('c', 1);
    assert.deepEqual(workloadsAndPods({ caches }).workloads.map((w) => [w.namespace, w.pods.map((p) => p.ready)]), [['a', [true]], ['b', [true]]]);
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
