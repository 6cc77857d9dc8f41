// Who the tag switch moves, decided from the webhooks' selectors and istiod's policy: one row per way a pod can
// be (or not be) injected through the tag, on a mesh with tags "default" and "canary" on the old revision.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { Draft } from '../../src/core/draft.ts';
import type { NamespaceState, WorkloadState } from '../../src/core/observed.ts';
import { istiodWouldInject } from '../../src/core/injection.ts';
import type { WorkloadScope } from '../../src/core/scope.ts';
import { OLD, T0, injectorWebhook, makeUpgrade, namespace, pod, sampleMesh, tagWebhook, workload } from '../support/fixtures.ts';

const NAMESPACES: NamespaceState[] = [
  namespace('on-tag', { [ISTIO_REV_LABEL]: 'default' }),
  namespace('legacy', { 'istio-injection': 'enabled' }),
  namespace('both', { 'istio-injection': 'enabled', [ISTIO_REV_LABEL]: 'canary' }),
  namespace('pinned', { [ISTIO_REV_LABEL]: OLD.revision }),
  namespace('on-canary', { [ISTIO_REV_LABEL]: 'canary' }),
  namespace('plain', {}),
  namespace('kube-system', {}),
];

function scopeOf(w: WorkloadState, spec: Parameters<typeof makeUpgrade>[0] = {}): WorkloadScope {
  const mesh = sampleMesh({ namespaces: NAMESPACES, workloads: [w], mutatingWebhooks: [injectorWebhook(OLD.revision), tagWebhook('default', OLD.revision), tagWebhook('canary', OLD.revision)] });
  const draft = new Draft(makeUpgrade(spec), mesh, T0);
  const scoped = draft.view.workloads[0];
  assert.ok(scoped !== undefined);
  return scoped.scope;
}

type Expect = { move: string; adopt?: boolean } | { skip: string; blocks: boolean };

const cases: { name: string; workload: WorkloadState; spec?: Parameters<typeof makeUpgrade>[0]; expect: Expect }[] = [
  { name: 'namespace on the tag', workload: workload('on-tag', 'a', OLD.revision), expect: { move: 'default' } },
  { name: 'legacy istio-injection=enabled namespace, through the default tag', workload: workload('legacy', 'a', OLD.revision), expect: { move: 'default' } },
  { name: 'istio-injection wins over istio.io/rev on a namespace (default tag, not canary)', workload: workload('both', 'a', OLD.revision), spec: { tag: 'canary' }, expect: { skip: 'NotOnTag', blocks: true } },
  { name: 'legacy namespace is not moved by another tag', workload: workload('legacy', 'a', OLD.revision), spec: { tag: 'canary' }, expect: { skip: 'NotOnTag', blocks: true } },
  { name: 'namespace pinned to the old revision', workload: workload('pinned', 'a', OLD.revision), expect: { skip: 'NotOnTag', blocks: true } },
  { name: 'namespace pinned to the old revision, adopted', workload: workload('pinned', 'a', OLD.revision), spec: { rollout: { adoptPinnedNamespaces: true } }, expect: { move: 'default', adopt: true } },
  { name: 'template pinned to the old revision in a tag namespace', workload: workload('on-tag', 'a', OLD.revision, { templateLabels: { [ISTIO_REV_LABEL]: OLD.revision } }), expect: { skip: 'PinnedToRevision', blocks: true } },
  { name: 'template labelled with the tag in an unlabelled namespace (rev.object)', workload: workload('plain', 'a', OLD.revision, { templateLabels: { [ISTIO_REV_LABEL]: 'default' } }), expect: { move: 'default' } },
  { name: 'template labelled sidecar.istio.io/inject=true in an unlabelled namespace (object.)', workload: workload('plain', 'a', OLD.revision, { templateLabels: { 'sidecar.istio.io/inject': 'true' } }), expect: { move: 'default' } },
  { name: 'inject=true is served by the default tag only', workload: workload('plain', 'a', OLD.revision, { templateLabels: { 'sidecar.istio.io/inject': 'true' } }), spec: { tag: 'canary' }, expect: { skip: 'NotOnTag', blocks: true } },
  { name: 'template labelled with the other tag', workload: workload('plain', 'a', OLD.revision, { templateLabels: { [ISTIO_REV_LABEL]: 'canary' } }), spec: { tag: 'canary' }, expect: { move: 'canary' } },
  { name: 'hostNetwork pods are never injected', workload: workload('on-tag', 'a', undefined, { hostNetwork: true }), expect: { skip: 'HostNetwork', blocks: false } },
  { name: 'inject=false label', workload: workload('on-tag', 'a', undefined, { templateLabels: { 'sidecar.istio.io/inject': 'false' } }), expect: { skip: 'InjectionDisabled', blocks: false } },
  { name: 'inject=false annotation', workload: workload('on-tag', 'a', undefined, { templateAnnotations: { 'sidecar.istio.io/inject': 'false' } }), expect: { skip: 'InjectionDisabled', blocks: false } },
  { name: 'the label wins over the annotation', workload: workload('on-tag', 'a', OLD.revision, { templateLabels: { 'sidecar.istio.io/inject': 'true' }, templateAnnotations: { 'sidecar.istio.io/inject': 'false' } }), expect: { move: 'default' } },
  { name: 'selected by the tag but running no sidecar today', workload: workload('on-tag', 'a', undefined), expect: { skip: 'NotInjected', blocks: false } },
  { name: 'an unlabelled namespace with a plain template', workload: workload('plain', 'a', undefined), expect: { skip: 'NotInjected', blocks: false } },
  { name: 'a template that brings its own proxy (istioctl gateway)', workload: workload('on-tag', 'gw', OLD.revision, { proxyImage: 'docker.io/istio/proxyv2:1.30.4', templateLabels: { 'sidecar.istio.io/inject': 'false' } }), expect: { skip: 'InjectionDisabled', blocks: true } },
  { name: 'istiod never injects kube-system', workload: workload('kube-system', 'a', undefined), expect: { skip: 'IgnoredNamespace', blocks: false } },
  { name: 'paused Deployment', workload: workload('on-tag', 'a', OLD.revision, { update: 'paused' }), expect: { skip: 'PausedDeployment', blocks: true } },
  { name: 'partitioned StatefulSet', workload: workload('on-tag', 'db', OLD.revision, { kind: 'StatefulSet', update: 'partitioned' }), expect: { skip: 'PartitionedStatefulSet', blocks: true } },
  { name: 'OnDelete DaemonSet is moved (by eviction)', workload: workload('on-tag', 'agent', OLD.revision, { kind: 'DaemonSet', update: 'onDelete' }), expect: { move: 'default' } },
  { name: 'Gateway API managed gateway', workload: workload('on-tag', 'gw', OLD.revision, { labels: { 'gateway.istio.io/managed': 'istio.io-gateway-controller' } }), expect: { skip: 'GatewayApiManaged', blocks: true } },
  { name: 'excluded namespace', workload: workload('on-tag', 'a', OLD.revision), spec: { rollout: { excludeNamespaces: ['on-tag'] } }, expect: { skip: 'ExcludedNamespace', blocks: true } },
];

describe('who the tag switch moves', () => {
  for (const c of cases) {
    it(c.name, () => {
      const scope = scopeOf(c.workload, c.spec);
      if ('move' in c.expect) {
        assert.ok(scope.move, `expected a move, got ${scope.move ? '' : `${scope.reason}: ${scope.detail}`}`);
        assert.equal(scope.tag, c.expect.move);
        assert.equal(scope.adopt, c.expect.adopt ?? false);
      } else {
        assert.ok(!scope.move, `expected ${c.expect.skip}, got a move`);
        assert.equal(scope.reason, c.expect.skip, scope.detail);
        assert.equal(scope.blocksUninstall, c.expect.blocks);
      }
    });
  }
});

describe("istiod's injection policy", () => {
  const base = { namespace: 'apps', labels: {}, annotations: {}, hostNetwork: false };
  const cases: [string, Parameters<typeof istiodWouldInject>[0], boolean][] = [
    ['plain pod', base, true],
    ['label "false"', { ...base, labels: { 'sidecar.istio.io/inject': 'false' } }, false],
    ['label "true"', { ...base, labels: { 'sidecar.istio.io/inject': 'true' } }, true],
    ['any other value falls back to the default policy (inject)', { ...base, labels: { 'sidecar.istio.io/inject': 'no' } }, true],
    ['annotation "false" without a label', { ...base, annotations: { 'sidecar.istio.io/inject': 'false' } }, false],
    ['an empty label still wins over an annotation "false"', { ...base, labels: { 'sidecar.istio.io/inject': '' }, annotations: { 'sidecar.istio.io/inject': 'false' } }, true],
    ['hostNetwork', { ...base, hostNetwork: true }, false],
    ['kube-node-lease', { ...base, namespace: 'kube-node-lease' }, false],
  ];
  for (const [name, input, expected] of cases) it(name, () => {
    assert.equal(istiodWouldInject(input).inject, expected);
  });
});

describe('pods outside workloads', () => {
  it('are reported, and block the uninstall only while they run the old proxy', () => {
    const mesh = sampleMesh({
      otherPods: [
        pod('bar', 'bare', OLD.revision),
        pod('bar', 'done', OLD.revision, { phase: 'Succeeded', owner: { kind: 'Job', name: 'j' } }),
        pod('bar', 'evicted', OLD.revision, { phase: 'Failed', owner: { kind: 'ReplicaSet', name: 'old-rs' } }),
      ],
    });
    const view = new Draft(makeUpgrade(), mesh, T0).view;
    const byName = new Map(view.otherPods.map((s) => [s.pod.name, s.scope]));
    assert.deepEqual(byName.get('bare'), { reason: 'BarePod', detail: 'bare pod', blocksUninstall: true });
    assert.equal(byName.get('done')?.blocksUninstall, false);
    assert.equal(byName.get('evicted')?.blocksUninstall, false);
  });
});
