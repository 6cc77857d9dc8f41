import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Deployment, V1Job, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { injectedRevision, jobOutcome, toJobFacts, toPodFacts, toPodState, toReplicaSetFacts, toRevisionState, toWebhookConfiguration, workloadOwnerKey } from '../../../src/kube/to-observed.ts';
import { daemonSetKind } from '../../../src/kube/workloads/daemon-set.ts';
import { deploymentKind } from '../../../src/kube/workloads/deployment.ts';
import { statefulSetKind } from '../../../src/kube/workloads/stateful-set.ts';
import { WORKLOADS } from '../../../src/kube/workloads/index.ts';
import { toWorkloadFacts } from '../../../src/kube/workloads/workload-kind.ts';

const owned = (kind: string, name: string) => [{ apiVersion: 'v1', kind, name, uid: `uid-${name}`, controller: true }];

describe('Kubernetes objects to observed state', () => {
  it('reads the injected revision from sidecar.istio.io/status', () => {
    assert.equal(injectedRevision({ 'sidecar.istio.io/status': '{"initContainers":["istio-init"],"containers":["istio-proxy"],"revision":"1-31-0"}' }), '1-31-0');
    assert.equal(injectedRevision({ 'sidecar.istio.io/status': 'not json' }), undefined);
    assert.equal(injectedRevision({ 'sidecar.istio.io/status': '{"containers":[]}' }), undefined);
    assert.equal(injectedRevision(undefined), undefined);
  });

  it('finds the proxy among containers or native-sidecar init containers, and Job ownership', () => {
    const pod: V1Pod = {
      metadata: { name: 'p', namespace: 'bar', ownerReferences: owned('Job', 'migrate'), annotations: { 'sidecar.istio.io/status': '{"revision":"1-30-4"}' } },
      spec: { containers: [{ name: 'app', image: 'app:1' }], initContainers: [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.30.4', restartPolicy: 'Always' }] },
      status: { phase: 'Failed' },
    };
    const job = toJobFacts({ metadata: { name: 'migrate', namespace: 'bar' }, status: { conditions: [{ type: 'Failed', status: 'True' }] } });
    const state = toPodState(toPodFacts(pod), (ns, name) => (ns === 'bar' && name === 'migrate' ? job : undefined));
    assert.equal(state.proxyImage, 'docker.io/istio/proxyv2:1.30.4');
    assert.equal(state.injectedRevision, '1-30-4');
    assert.deepEqual(state.owner, { kind: 'Job', name: 'migrate' });
    assert.equal(state.ownerJobFinished, true);
    assert.equal(state.phase, 'Failed');
    assert.equal(toPodState(toPodFacts(pod), () => undefined).ownerJobFinished, false);
  });

  it('follows ReplicaSets up to their Deployment', () => {
    const rs: V1ReplicaSet = { metadata: { name: 'api-7d9', namespace: 'bar', ownerReferences: owned('Deployment', 'api') } };
    const replicaSet = (ns: string, name: string) => (ns === 'bar' && name === 'api-7d9' ? toReplicaSetFacts(rs) : undefined);
    const isKind = (kind: string) => Object.hasOwn(WORKLOADS, kind);
    const owner = (pod: V1Pod) => workloadOwnerKey(toPodFacts(pod), replicaSet, isKind);
    assert.equal(owner({ metadata: { namespace: 'bar', ownerReferences: owned('ReplicaSet', 'api-7d9') } }), 'Deployment/bar/api');
    assert.equal(owner({ metadata: { namespace: 'bar', ownerReferences: owned('StatefulSet', 'db') } }), 'StatefulSet/bar/db');
    assert.equal(owner({ metadata: { namespace: 'bar', ownerReferences: owned('ReplicaSet', 'orphan') } }), undefined);
    assert.equal(owner({ metadata: { namespace: 'bar', ownerReferences: owned('Job', 'migrate') } }), undefined);
    assert.equal(owner({ metadata: { namespace: 'bar' } }), undefined);
  });

  it('reads rollout counters and the update mode of each workload kind', () => {
    const d: V1Deployment = {
      metadata: { name: 'api', namespace: 'bar', generation: 3, labels: { team: 'a' } },
      spec: { replicas: 2, selector: {}, template: { metadata: { labels: { app: 'api' }, annotations: { a: 'b' } }, spec: { hostNetwork: true, containers: [{ name: 'app', image: 'app:1' }] } } },
      status: { observedGeneration: 3, updatedReplicas: 2, availableReplicas: 1, replicas: 3 },
    };
    const facts = toWorkloadFacts(deploymentKind, d);
    assert.deepEqual(facts.rollout, { generation: 3, observedGeneration: 3, desired: 2, updated: 2, ready: 1, total: 3 });
    assert.deepEqual(facts.templateAnnotations, { a: 'b' });
    assert.deepEqual(facts.labels, { team: 'a' });
    assert.deepEqual(facts.templateContainers, [{ name: 'app', image: 'app:1' }]);
    assert.equal(facts.hostNetwork, true);
    assert.equal(facts.update, 'rolling');
    assert.equal(toWorkloadFacts(deploymentKind, { metadata: { name: 'api' }, spec: { selector: {}, template: {}, paused: true } }).update, 'paused');
    const ds = { metadata: { name: 'agent', generation: 1 }, spec: { selector: {}, template: {}, updateStrategy: { type: 'OnDelete' } }, status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3, currentNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3 } };
    assert.deepEqual(toWorkloadFacts(daemonSetKind, ds).rollout, { generation: 1, observedGeneration: 1, desired: 3, updated: 2, ready: 3, total: 3 });
    assert.equal(toWorkloadFacts(daemonSetKind, ds).update, 'onDelete');
    const sts = { metadata: { name: 'db' }, spec: { selector: {}, serviceName: 'db', template: {}, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } } };
    assert.equal(toWorkloadFacts(statefulSetKind, sts).update, 'partitioned');
    assert.equal(toWorkloadFacts(statefulSetKind, { ...sts, spec: { ...sts.spec, updateStrategy: { type: 'OnDelete' } } }).update, 'onDelete');
  });

  it("does not cache kubectl's last-applied copy of a workload (a whole object per workload)", () => {
    const annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ big: 'x'.repeat(10_000) }), 'deployment.kubernetes.io/revision': '3' };
    const facts = toWorkloadFacts(deploymentKind, { metadata: { name: 'api', annotations }, spec: { selector: {}, template: {} } });
    assert.deepEqual(facts.annotations, { 'deployment.kubernetes.io/revision': '3' });
  });

  it('reads an istiod Deployment as a revision with its version (istiod alone is revision "default")', () => {
    const istiod: V1Deployment = {
      metadata: { name: 'istiod-1-31-0', namespace: 'istio-system', labels: { app: 'istiod', 'istio.io/rev': '1-31-0' }, generation: 1 },
      spec: { selector: {}, template: { spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.31.0' }] } } },
      status: { observedGeneration: 1, availableReplicas: 1, readyReplicas: 1, replicas: 1, updatedReplicas: 1 },
    };
    assert.deepEqual(toRevisionState(toWorkloadFacts(deploymentKind, istiod)), { revision: '1-31-0', deploymentName: 'istiod-1-31-0', version: '1.31.0', ready: true, labels: { app: 'istiod', 'istio.io/rev': '1-31-0' }, annotations: {} });
    const notReady: V1Deployment = Object.assign(structuredClone(istiod), { status: { observedGeneration: 1, availableReplicas: 0 } });
    assert.equal(toRevisionState(toWorkloadFacts(deploymentKind, notReady))?.ready, false);
    const plain: V1Deployment = Object.assign(structuredClone(istiod), { metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' } } });
    assert.equal(toRevisionState(toWorkloadFacts(deploymentKind, plain))?.revision, 'default');
  });

  it('reads webhook configurations', () => {
    const config = toWebhookConfiguration({
      metadata: { name: 'istio-revision-tag-default', labels: { 'istio.io/tag': 'default', 'istio.io/rev': '1-30-4' } },
      webhooks: [{ name: 'rev.namespace.sidecar-injector.istio.io', clientConfig: { service: { name: 'istiod-1-30-4', namespace: 'istio-system', path: '/inject', port: 443 }, caBundle: 'Q0E=' }, admissionReviewVersions: ['v1'], sideEffects: 'None', reinvocationPolicy: 'Never', namespaceSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: ['default'] }] } }],
    });
    assert.deepEqual(config.webhooks[0], {
      name: 'rev.namespace.sidecar-injector.istio.io',
      clientConfig: { service: { name: 'istiod-1-30-4', namespace: 'istio-system', path: '/inject', port: 443 }, caBundle: 'Q0E=' },
      reinvocationPolicy: 'Never',
      namespaceSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: ['default'] }] },
    });
  });

  it("reads a Job's outcome, with istioctl's termination message when it failed", () => {
    const failed: V1Job = { metadata: { name: 'j' }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: new Date('2026-11-22T10:00:00Z') }] } };
    const pod: V1Pod = { status: { containerStatuses: [{ name: 'istioctl', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, message: 'Error: webhook overlaps with revision' } } }] } };
    assert.deepEqual(jobOutcome(toJobFacts(failed), [toPodFacts(pod)]), { outcome: 'Failed', message: 'exit code 1: Error: webhook overlaps with revision', completedAt: '2026-11-22T10:00:00.000Z' });
    assert.match(jobOutcome(toJobFacts(failed), []).message ?? '', /BackoffLimitExceeded/);
    const done: V1Job = { status: { completionTime: new Date('2026-11-22T10:01:00Z'), conditions: [{ type: 'Complete', status: 'True' }] } };
    assert.deepEqual(jobOutcome(toJobFacts(done), []), { outcome: 'Succeeded', message: undefined, completedAt: '2026-11-22T10:01:00.000Z' });
    assert.equal(jobOutcome(toJobFacts({ status: {} }), []).outcome, 'Running');
  });
});
