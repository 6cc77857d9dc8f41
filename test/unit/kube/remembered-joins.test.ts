// What observe derives per cached object is remembered only while it cannot have changed: the same pod object
// gives the same state, a Job's pod follows its Job, a pod's owner follows its ReplicaSet, and a workload joined
// with its pods is a new object as soon as one pod is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { ownerKeyOf, podStateOf, withPodsRemembered } from '../../../src/kube/remembered-joins.ts';
import { toJobFacts, toPodFacts, toReplicaSetFacts, type JobFacts, type ReplicaSetFacts } from '../../../src/kube/to-observed.ts';
import { WORKLOADS } from '../../../src/kube/workloads/index.ts';
import { deploymentKind } from '../../../src/kube/workloads/deployment.ts';
import { toWorkloadFacts } from '../../../src/kube/workloads/workload-kind.ts';

const owned = (kind: string, name: string) => [{ apiVersion: 'v1', kind, name, uid: `uid-${name}`, controller: true }];
const isKind = (kind: string) => Object.hasOwn(WORKLOADS, kind);
const pod = (name: string, ownerKind: string, owner: string, ready = true): V1Pod => ({
  metadata: { name, namespace: 'shop', ownerReferences: owned(ownerKind, owner) },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('observe: derived state remembered per cached object', () => {
  it('the same pod object gives the same state object; a new pod object a new state', () => {
    const facts = toPodFacts(pod('cart-1', 'ReplicaSet', 'cart-7d9'));
    const first = podStateOf(facts, () => undefined);
    assert.equal(podStateOf(facts, () => undefined), first);
    const changed = toPodFacts(pod('cart-1', 'ReplicaSet', 'cart-7d9', false));
    assert.equal(podStateOf(changed, () => undefined).ready, false);
  });

  it("a Job's pod follows its Job's end, whatever was computed before", () => {
    const facts = toPodFacts(pod('migrate-x', 'Job', 'migrate'));
    let job: JobFacts | undefined = toJobFacts({ metadata: { name: 'migrate', namespace: 'shop' }, status: {} });
    const jobs = () => job;
    assert.equal(podStateOf(facts, jobs).ownerJobFinished, false);
    job = toJobFacts({ metadata: { name: 'migrate', namespace: 'shop' }, status: { conditions: [{ type: 'Complete', status: 'True' }] } });
    assert.equal(podStateOf(facts, jobs).ownerJobFinished, true);
  });

  it("a pod's owner is resolved once its ReplicaSet is cached, and follows a changed ReplicaSet", () => {
    const facts = toPodFacts(pod('cart-1', 'ReplicaSet', 'cart-7d9'));
    let rs: ReplicaSetFacts | undefined;
    const replicaSets = () => rs;
    assert.equal(ownerKeyOf(facts, replicaSets, isKind), undefined, 'its ReplicaSet not seen yet');
    rs = toReplicaSetFacts({ metadata: { name: 'cart-7d9', namespace: 'shop', ownerReferences: owned('Deployment', 'cart') } });
    assert.equal(ownerKeyOf(facts, replicaSets, isKind), 'Deployment/shop/cart');
    rs = toReplicaSetFacts({ metadata: { name: 'cart-7d9', namespace: 'shop' } });
    assert.equal(ownerKeyOf(facts, replicaSets, isKind), undefined, 'orphaned ReplicaSet');
  });

  it('a workload with unchanged pods is the same object; one changed pod makes a new one', () => {
    const workload = toWorkloadFacts(deploymentKind, { metadata: { name: 'cart', namespace: 'shop' }, spec: { selector: {}, template: {} } });
    const a = podStateOf(toPodFacts(pod('cart-1', 'ReplicaSet', 'cart-7d9')), () => undefined);
    const b = podStateOf(toPodFacts(pod('cart-2', 'ReplicaSet', 'cart-7d9')), () => undefined);
    const first = withPodsRemembered(workload, new Map([['Deployment/shop/cart', [a, b]]]));
    assert.deepEqual(first.pods, [a, b]);
    assert.equal(withPodsRemembered(workload, new Map([['Deployment/shop/cart', [a, b]]])), first, 'a new list of the same pods');
    const b2 = podStateOf(toPodFacts(pod('cart-2', 'ReplicaSet', 'cart-7d9', false)), () => undefined);
    const second = withPodsRemembered(workload, new Map([['Deployment/shop/cart', [a, b2]]]));
    assert.notEqual(second, first);
    assert.deepEqual(second.pods, [a, b2]);
    assert.deepEqual(withPodsRemembered(workload, new Map()).pods, [], 'every pod gone');
  });
});
