import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Deployment, V1Job, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { injectedRevision, jobOutcome, toPodState, toRevisionState, toWebhookConfiguration, toWorkloadState, workloadOwnerKey } from '../../../src/kube/to-observed.ts';

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
    const job: V1Job = { metadata: { name: 'migrate', namespace: 'bar' }, status: { conditions: [{ type: 'Failed', status: 'True' }] } };
    const state = toPodState(pod, new Map([['bar/migrate', job]]));
    assert.equal(state.proxyImage, 'docker.io/istio/proxyv2:1.30.4');
    assert.equal(state.injectedRevision, '1-30-4');
    assert.deepEqual(state.owner, { kind: 'Job', name: 'migrate' });
    assert.equal(state.ownerJobFinished, true);
    assert.equal(state.phase, 'Failed');
    assert.equal(toPodState(pod, new Map()).ownerJobFinished, false);
  });

  it('follows ReplicaSets up to their Deployment', () => {
    const rs: V1ReplicaSet = { metadata: { name: 'api-7d9', namespace: 'bar', ownerReferences: owned('Deployment', 'api') } };
    const rsMap = new Map([['bar/api-7d9', rs]]);
    assert.equal(workloadOwnerKey({ metadata: { namespace: 'bar', ownerReferences: owned('ReplicaSet', 'api-7d9') } }, rsMap), 'Deployment/bar/api');
    assert.equal(workloadOwnerKey({ metadata: { namespace: 'bar', ownerReferences: owned('StatefulSet', 'db') } }, rsMap), 'StatefulSet/bar/db');
    assert.equal(workloadOwnerKey({ metadata: { namespace: 'bar', ownerReferences: owned('ReplicaSet', 'orphan') } }, rsMap), undefined);
    assert.equal(workloadOwnerKey({ metadata: { namespace: 'bar' } }, rsMap), undefined);
  });

  it('reads rollout counters of Deployments and DaemonSets', () => {
    const d: V1Deployment = {
      metadata: { name: 'api', namespace: 'bar', generation: 3 },
      spec: { replicas: 2, selector: {}, template: { metadata: { labels: { app: 'api' }, annotations: { a: 'b' } } } },
      status: { observedGeneration: 3, updatedReplicas: 2, availableReplicas: 1, replicas: 3 },
    };
    assert.deepEqual(toWorkloadState('Deployment', d, []).rollout, { generation: 3, observedGeneration: 3, desired: 2, updated: 2, ready: 1, total: 3 });
    assert.deepEqual(toWorkloadState('Deployment', d, []).templateAnnotations, { a: 'b' });
    const ds = { metadata: { name: 'agent', generation: 1 }, spec: { selector: {}, template: {} }, status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3, currentNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3 } };
    assert.deepEqual(toWorkloadState('DaemonSet', ds, []).rollout, { generation: 1, observedGeneration: 1, desired: 3, updated: 2, ready: 3, total: 3 });
  });

  it('reads an istiod Deployment as a revision with its version', () => {
    const istiod: V1Deployment = {
      metadata: { name: 'istiod-1-31-0', namespace: 'istio-system', labels: { app: 'istiod', 'istio.io/rev': '1-31-0' }, generation: 1 },
      spec: { selector: {}, template: { spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.31.0' }] } } },
      status: { observedGeneration: 1, availableReplicas: 1, readyReplicas: 1, replicas: 1, updatedReplicas: 1 },
    };
    assert.deepEqual(toRevisionState(istiod), { revision: '1-31-0', version: '1.31.0', ready: true, serviceExists: false });
    const notReady: V1Deployment = Object.assign(structuredClone(istiod), { status: { observedGeneration: 1, availableReplicas: 0 } });
    assert.equal(toRevisionState(notReady)?.ready, false);
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
    assert.deepEqual(jobOutcome(failed, [pod]), { outcome: 'Failed', message: 'exit code 1: Error: webhook overlaps with revision', completedAt: '2026-11-22T10:00:00.000Z' });
    assert.match(jobOutcome(failed, []).message ?? '', /BackoffLimitExceeded/);
    const done: V1Job = { status: { completionTime: new Date('2026-11-22T10:01:00Z'), conditions: [{ type: 'Complete', status: 'True' }] } };
    assert.deepEqual(jobOutcome(done, []), { outcome: 'Succeeded', message: undefined, completedAt: '2026-11-22T10:01:00.000Z' });
    assert.equal(jobOutcome({ status: {} }, []).outcome, 'Running');
  });
});
