// Real mesh shapes walked through the in-memory mesh (the end-to-end tests prove the same on the hermetic
// cluster): the restart set comes from the webhooks, blockers are found at the precheck, and installing never
// changes injection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import type { IstioUpgrade } from '../../src/api/schema.ts';
import { findCondition } from '../../src/core/conditions.ts';
import type { ObservedState } from '../../src/core/observed.ts';
import { plan } from '../../src/core/plan.ts';
import { COMPONENT_LABEL, OWNER_NAMESPACE_LABEL } from '../../src/core/inventory.ts';
import { E2E_SPEC, NEW, OLD, T0, injectorWebhook, makeUpgrade, namespace, pod, revisionState, sampleMesh, tagWebhook, workload } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

const OWNED = { 'install.operator.istio.io/owning-resource-namespace': 'istio-system' };

/** Pods injected by the new revision while the tag has not moved yet (must stay empty). */
function earlyInjections(mesh: FakeMesh, upgrade: IstioUpgrade, seen: string[]): void {
  if (findCondition(upgrade.status.conditions ?? [], 'TagSwitched')?.status === 'True' || upgrade.status.phase === 'RollingBack') return;
  for (const w of mesh.observed.workloads) for (const p of w.pods) if (p.injectedRevision === NEW.revision) seen.push(`${upgrade.status.phase ?? '?'}: ${w.namespace}/${p.name}`);
}

/** A non-revisioned control plane (Deployment istiod, webhook istio-sidecar-injector), no tag. */
function nonRevisionedMesh(): ObservedState {
  const r = 'default';
  return sampleMesh({
    revisions: [revisionState(r, OLD.version)],
    mutatingWebhooks: [injectorWebhook(r)],
    namespaces: [namespace('istio-system', {}), namespace('legacy', { 'istio-injection': 'enabled' }), namespace('tagged', { [ISTIO_REV_LABEL]: 'default' }), namespace('plain', {})],
    workloads: [
      workload('legacy', 'web', r, { replicas: 2 }),
      workload('tagged', 'api', r),
      workload('plain', 'opted-in', r, { templateLabels: { 'sidecar.istio.io/inject': 'true' } }),
      workload('plain', 'unmeshed', undefined),
    ],
    otherPods: [],
  });
}

describe('shape 1: a non-revisioned control plane', () => {
  const spec = { rollout: { waves: [{ name: 'canary', namespaces: ['tagged'] }, { name: 'rest' }] } };

  it('first creates the default tag on it (no injection change), installs, moves every injected workload, removes the old control plane', () => {
    const mesh = new FakeMesh(nonRevisionedMesh());
    const early: string[] = [];
    const order: string[] = [];
    const result = walk(makeUpgrade(spec), mesh, {
      beforePass: (_pass, upgrade, m) => {
        earlyInjections(m, upgrade, early);
        const tag = m.tagRevision();
        if (tag !== undefined && order.at(-1) !== `tag->${tag}`) order.push(`tag->${tag}`);
        if (m.observed.revisions.some((r) => r.revision === NEW.revision) && !order.includes('installed')) order.push('installed');
        return undefined;
      },
    });
    assert.equal(result.upgrade.status.phase, 'Succeeded', result.phases.join(' > '));
    assert.deepEqual(order, ['tag->default', 'installed', `tag->${NEW.revision}`], 'the tag exists (on revision "default") before the install');
    assert.deepEqual(early, [], 'no pod injected by the new revision before the tag switch');
    assert.equal(result.upgrade.status.fromRevision, 'default');
    for (const key of ['Deployment/legacy/web', 'Deployment/tagged/api', 'Deployment/plain/opted-in']) assert.equal(mesh.restarts.get(key), 1, key);
    assert.equal(mesh.restarts.has('Deployment/plain/unmeshed'), false);
    assert.deepEqual(mesh.observed.revisions.map((r) => r.revision), [NEW.revision], 'the non-revisioned control plane is removed');
    assert.ok(!mesh.observed.mutatingWebhooks.some((w) => w.name === 'istio-sidecar-injector'));
    const uninstall = mesh.observed.jobs.find((j) => j.name.includes('-uninstall-'));
    assert.ok(uninstall !== undefined);
  });

  it('never takes the tag "default" for the revision "default": namespaces on the moved tag do not hold the uninstall', () => {
    const mesh = new FakeMesh(nonRevisionedMesh());
    const result = walk(makeUpgrade(spec), mesh);
    assert.equal(findCondition(result.upgrade.status.conditions ?? [], 'OldRevisionRemoved')?.reason, 'Removed');
  });

  it('without the preparation, istioctl install would have moved injection: the fake install shows it', () => {
    // Install straight away on the unprepared mesh: the default tag appears for the new revision.
    const mesh = new FakeMesh(nonRevisionedMesh());
    mesh.apply({ type: 'runInstallerJob', tool: 'istioctl', purpose: 'install', jobName: 'x', image: 'i', args: ['install', '--set', `revision=${NEW.revision}`], overlay: undefined }, T0);
    assert.equal(mesh.tagRevision(), NEW.revision);
  });
});

describe('installing never changes injection', () => {
  it('refuses at the precheck when no default tag exists and the one istioctl install creates would inject something', () => {
    const mesh = sampleMesh({ mutatingWebhooks: [injectorWebhook(OLD.revision), tagWebhook('prod', OLD.revision)], namespaces: [namespace('apps', { [ISTIO_REV_LABEL]: 'prod' }), namespace('legacy', { 'istio-injection': 'enabled' })] });
    const result = plan(makeUpgrade({ tag: 'prod', precheck: { istioctl: false } }), mesh, T0);
    assert.equal(result.status.phase, 'Failed');
    assert.equal(result.status.failure?.reason, 'InstallWouldChangeInjection');
    assert.match(result.status.failure.message, /namespace legacy/);
    assert.match(result.status.failure.message, /istioctl tag set default --revision 1-30-4/);
    assert.deepEqual(result.actions, []);
  });

  it('proceeds, with a warning in the plan, when that tag would select nothing', () => {
    const mesh = sampleMesh({ mutatingWebhooks: [injectorWebhook(OLD.revision), tagWebhook('prod', OLD.revision)], namespaces: [namespace('apps', { [ISTIO_REV_LABEL]: 'prod' })], workloads: [workload('apps', 'a', OLD.revision)] });
    const result = plan(makeUpgrade({ tag: 'prod', precheck: { istioctl: false } }), mesh, T0);
    assert.equal(result.status.phase, 'Installing');
    assert.ok(result.status.plan?.warnings?.some((w) => /istioctl install will create tag "default"/.test(w)));
  });
});

describe('shape 3: a namespace pinned to the old revision', () => {
  const pinnedMesh = () => sampleMesh({
    namespaces: [...sampleMesh().namespaces, namespace('pinned', { [ISTIO_REV_LABEL]: OLD.revision })],
    workloads: [...sampleMesh().workloads, workload('pinned', 'legacy-app', OLD.revision)],
  });

  it('is not restarted, is a blocker in the plan, and holds the uninstall naming it', () => {
    const mesh = new FakeMesh(pinnedMesh());
    const result = walk(makeUpgrade(E2E_SPEC), mesh, { maxPasses: 400 });
    assert.equal(result.upgrade.status.phase, 'Uninstalling');
    assert.equal(mesh.restarts.has('Deployment/pinned/legacy-app'), false);
    const blockers = result.upgrade.status.plan?.blockers ?? [];
    assert.ok(blockers.some((b) => b.kind === 'Namespace' && b.name === 'pinned' && b.reason === 'PinnedNamespace'), JSON.stringify(blockers));
    assert.ok(blockers.some((b) => b.name === 'pinned/legacy-app' && b.reason === 'NotOnTag'), JSON.stringify(blockers));
    const stalled = findCondition(result.upgrade.status.conditions ?? [], 'Stalled');
    assert.equal(stalled?.status, 'True');
    assert.equal(stalled.reason, 'RevisionInUse');
    assert.match(stalled.message, /namespace pinned/);
  });

  it('with adoptPinnedNamespaces, is relabelled onto the tag in its wave, restarted, and the upgrade finishes', () => {
    const mesh = new FakeMesh(pinnedMesh());
    const result = walk(makeUpgrade({ ...E2E_SPEC, rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 2 }], adoptPinnedNamespaces: true } }), mesh);
    assert.equal(result.upgrade.status.phase, 'Succeeded', result.phases.join(' > '));
    assert.equal(mesh.observed.namespaces.find((n) => n.name === 'pinned')?.labels[ISTIO_REV_LABEL], 'default');
    assert.equal(mesh.restarts.get('Deployment/pinned/legacy-app'), 1);
    assert.ok(result.upgrade.status.waves?.find((w) => w.name === 'rest')?.namespaces.includes('pinned'));
  });
});

describe('shape 7: workloads a rollout restart cannot move', () => {
  it('evicts the pods of OnDelete workloads one at a time; skips paused and partitioned ones without waiting on them', () => {
    const mesh = new FakeMesh(sampleMesh({
      workloads: [
        ...sampleMesh().workloads,
        workload('foo', 'node-agent', OLD.revision, { kind: 'DaemonSet', update: 'onDelete', replicas: 3 }),
        workload('foo', 'paused', OLD.revision, { update: 'paused' }),
        workload('baz', 'ledger', OLD.revision, { kind: 'StatefulSet', update: 'partitioned', replicas: 2 }),
      ],
    }));
    let maxEvictionsPerPass = 0;
    const result = walk(makeUpgrade({ ...E2E_SPEC, uninstall: { enabled: false } }), mesh, {
      beforePass: (_pass, upgrade, m, now) => {
        const evictions = plan(upgrade, m.observed, now).actions.filter((a) => a.type === 'evictPod' && a.namespace === 'foo').length;
        maxEvictionsPerPass = Math.max(maxEvictionsPerPass, evictions);
        return undefined;
      },
    });
    assert.equal(result.upgrade.status.phase, 'Succeeded', result.phases.join(' > '));
    assert.equal(mesh.restarts.get('DaemonSet/foo/node-agent'), 1);
    assert.deepEqual([...mesh.evictions.keys()].filter((k) => k.startsWith('foo/node-agent')).sort(), ['foo/node-agent-0', 'foo/node-agent-1', 'foo/node-agent-2']);
    assert.equal(maxEvictionsPerPass, 1, 'one eviction at a time');
    assert.equal(mesh.restarts.has('Deployment/foo/paused'), false);
    assert.equal(mesh.restarts.has('StatefulSet/baz/ledger'), false);
    const skipped = result.upgrade.status.plan?.skipped ?? [];
    assert.ok(skipped.some((s) => s.name === 'foo/paused' && s.reason === 'PausedDeployment'));
    assert.ok(skipped.some((s) => s.name === 'baz/ledger' && s.reason === 'PartitionedStatefulSet'));
  });
});

describe('shape 7: evictions do not trust a stale cache', () => {
  it('after evicting a pod, a pass that still sees it (the informer lags) evicts no other pod of that workload', () => {
    const mesh = new FakeMesh(sampleMesh({ workloads: [...sampleMesh().workloads, workload('bar', 'ledger', OLD.revision, { kind: 'StatefulSet', update: 'onDelete', replicas: 2 })] }));
    const held = walk(makeUpgrade({ ...E2E_SPEC, gateways: [] }), mesh, { stopWhen: (u) => (u.status.evictions ?? []).length > 0 });
    const pending = held.upgrade.status.evictions?.[0];
    assert.equal(pending?.workload, 'StatefulSet/bar/ledger');
    // The cluster as the lagging cache still shows it: the evicted pod Running and Ready, not replaced.
    const stale = { ...mesh.observed, workloads: mesh.observed.workloads.map((w) => (w.name === 'ledger' ? { ...w, pods: w.pods.map((p, i) => (i === 0 ? { ...p, name: pending.pod, uid: pending.uid, injectedRevision: OLD.revision } : p)) } : w)) };
    const again = plan(held.upgrade, stale, new Date(held.now.getTime() + 1000));
    assert.deepEqual(again.actions.filter((a) => a.type === 'evictPod'), []);
    // Ten seconds on, still there and not terminating: the eviction was refused; it is asked again.
    const retry = plan(held.upgrade, stale, new Date(held.now.getTime() + 11_000));
    assert.deepEqual(retry.actions.filter((a) => a.type === 'evictPod').map((a) => a.type === 'evictPod' && a.name), [pending.pod]);
  });
});

describe('shape 8: two tags on the old revision', () => {
  const twoTags = () => sampleMesh({
    mutatingWebhooks: [injectorWebhook(OLD.revision), tagWebhook('default', OLD.revision), tagWebhook('prod-canary', OLD.revision), tagWebhook('prod-stable', OLD.revision)],
    namespaces: [...sampleMesh().namespaces.filter((n) => !['foo', 'bar'].includes(n.name)), namespace('foo', { [ISTIO_REV_LABEL]: 'prod-canary' }), namespace('bar', { [ISTIO_REV_LABEL]: 'prod-stable' })],
  });
  const spec = {
    ...E2E_SPEC,
    gateways: [],
    tag: 'prod-canary',
    additionalTags: ['prod-stable', 'default'],
    rollout: { waves: [{ name: 'canary' }, { name: 'stable', tag: 'prod-stable' }, { name: 'rest', tag: 'default' }] },
  };

  it('moves each tag at its own wave boundary, after the previous soak, and finishes', () => {
    const mesh = new FakeMesh(twoTags());
    const moves: string[] = [];
    const result = walk(makeUpgrade(spec), mesh, {
      beforePass: (_pass, upgrade) => {
        const last = mesh.tagWrites.at(-1);
        if (last !== undefined && moves.at(-1) !== `${last} during ${upgrade.status.currentWave ?? upgrade.status.phase ?? ''}`) moves.push(`${last} during ${upgrade.status.currentWave ?? upgrade.status.phase ?? ''}`);
        return undefined;
      },
    });
    assert.equal(result.upgrade.status.phase, 'Succeeded', result.phases.join(' > '));
    assert.deepEqual([...new Set(mesh.tagWrites)], ['prod-canary->1-31-0', 'prod-stable->1-31-0', 'default->1-31-0']);
    assert.deepEqual(result.upgrade.status.waves?.map((w) => [w.name, w.namespaces.join(',')]), [['canary', 'foo'], ['stable', 'bar'], ['rest', 'baz,istio-ingress,qux']]);
    for (const [key, count] of mesh.restarts) assert.equal(count, 1, key);
    assert.ok(moves.length >= 3, moves.join('; '));
  });

  it('without additionalTags, the second tag is a blocker and holds the uninstall, named', () => {
    const mesh = new FakeMesh(twoTags());
    const result = walk(makeUpgrade({ ...spec, additionalTags: [], rollout: { waves: [{ name: 'canary' }] } }), mesh, { maxPasses: 400 });
    assert.equal(result.upgrade.status.phase, 'Uninstalling');
    assert.ok(result.upgrade.status.plan?.blockers?.some((b) => b.reason === 'OtherTagOnOldRevision' && b.name === 'prod-stable'));
    assert.match(findCondition(result.upgrade.status.conditions ?? [], 'OldRevisionRemoved')?.message ?? '', /tag prod-stable/);
  });
});

describe('gateways that a restart would not move are refused at the precheck', () => {
  const cases = [
    { name: 'istioctl-installed (own proxy image, injection off)', reason: 'GatewayNotInjected', gw: workload('istio-ingress', 'istio-ingressgateway', OLD.revision, { proxyImage: 'docker.io/istio/proxyv2:1.30.4', templateLabels: { 'sidecar.istio.io/inject': 'false', [ISTIO_REV_LABEL]: OLD.revision } }) },
    { name: 'pinned to the old revision', reason: 'GatewayPinned', gw: workload('istio-ingress', 'istio-ingressgateway', OLD.revision, { templateLabels: { [ISTIO_REV_LABEL]: OLD.revision } }) },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.reason}, before anything changes`, () => {
      const mesh = sampleMesh({ workloads: [c.gw, ...sampleMesh().workloads.filter((w) => w.name !== 'istio-ingressgateway')] });
      const result = plan(makeUpgrade(E2E_SPEC), mesh, T0);
      assert.equal(result.status.phase, 'Failed');
      assert.equal(result.status.failure?.reason, c.reason);
      assert.match(result.status.failure.message, /istio-ingress\/istio-ingressgateway/);
      assert.deepEqual(result.actions, []);
    });
  }
});

describe('the old control plane belongs to the installer this upgrade uses', () => {
  const cases = [
    { name: 'Helm', annotations: { 'meta.helm.sh/release-name': 'istiod' }, labels: {}, match: /Helm release "istiod"/ },
    { name: 'Argo CD (annotation tracking)', annotations: { 'argocd.argoproj.io/tracking-id': 'mesh:apps/Deployment:istio-system/istiod-1-30-4' }, labels: {}, match: /Argo CD/ },
  ];
  for (const c of cases) {
    it(`istioctl mode refuses a control plane managed by ${c.name}`, () => {
      const mesh = sampleMesh({ revisions: [revisionState(OLD.revision, OLD.version, true, { annotations: c.annotations })] });
      const result = plan(makeUpgrade(E2E_SPEC), mesh, T0);
      assert.equal(result.status.failure?.reason, 'InstallerMismatch');
      assert.match(result.status.failure.message, c.match);
      assert.match(result.status.failure.message, /installer\.mode: external/);
    });
  }
  it('external mode accepts it', () => {
    const mesh = sampleMesh({ revisions: [revisionState(OLD.revision, OLD.version, true, { annotations: { 'meta.helm.sh/release-name': 'istiod' } })] });
    assert.equal(plan(makeUpgrade({ ...E2E_SPEC, installer: { mode: 'external' } }), mesh, T0).status.phase, 'Installing');
  });
});

describe('shared components of the old revision', () => {
  it('an Istio CNI DaemonSet labelled with the old revision is a blocker at the precheck and holds the uninstall', () => {
    const cni = workload('kube-system', 'istio-cni-node', undefined, { kind: 'DaemonSet', labels: { [ISTIO_REV_LABEL]: OLD.revision, 'operator.istio.io/component': 'Cni', ...OWNED }, hostNetwork: true });
    const mesh = new FakeMesh(sampleMesh({ workloads: [...sampleMesh().workloads, cni] }));
    const result = walk(makeUpgrade(E2E_SPEC), mesh, { maxPasses: 400 });
    assert.equal(result.upgrade.status.phase, 'Uninstalling');
    assert.ok(result.upgrade.status.plan?.warnings?.some((w) => /Istio CNI node agent DaemonSet kube-system\/istio-cni-node/.test(w)));
    assert.ok(result.upgrade.status.plan?.removals?.includes('DaemonSet kube-system/istio-cni-node'));
    const removed = findCondition(result.upgrade.status.conditions ?? [], 'OldRevisionRemoved');
    assert.equal(removed?.reason, 'RevisionInUse');
    assert.match(removed.message, /component kube-system\/istio-cni-node/);
    assert.equal(mesh.observed.jobs.some((j) => j.name.includes('-uninstall-')), false, 'the uninstall Job never ran');
  });
});

describe('the plan is in the status before the first action', () => {
  it('the first Prechecking pass writes status.plan and asks for the istioctl precheck Job', () => {
    const mesh = sampleMesh({ otherPods: [...sampleMesh().otherPods, pod('bar', 'bare', OLD.revision)] });
    const result = plan(makeUpgrade(E2E_SPEC), mesh, T0);
    assert.equal(result.status.phase, 'Prechecking');
    assert.deepEqual(result.actions.map((a) => a.type), ['runInstallerJob']);
    const p = result.status.plan;
    assert.deepEqual(p?.waves.map((w) => [w.name, w.tag, w.namespaces.join(','), w.workloads]), [['canary', 'default', 'bar', 2], ['rest', 'default', 'baz,foo,istio-ingress,qux', 8]]);
    assert.deepEqual(p.gateways, ['istio-ingress/istio-ingressgateway']);
    assert.ok(p.skipped?.some((s) => s.name === 'default/unmeshed' && s.reason === 'NotInjected'));
    assert.ok(p.blockers?.some((b) => b.name === 'bar/bare' && b.reason === 'BarePod'));
    assert.ok(p.removals?.includes('MutatingWebhookConfiguration istio-sidecar-injector-1-30-4'));
  });

  it('does not list the moved tag among the removals, even when istioctl install made it with its owner labels', () => {
    const owned = { [OWNER_NAMESPACE_LABEL]: 'istio-system', [COMPONENT_LABEL]: 'Pilot' };
    const base = sampleMesh();
    const mesh = { ...base, mutatingWebhooks: base.mutatingWebhooks.map((w) => (w.labels['istio.io/tag'] === 'default' ? { ...w, labels: { ...w.labels, ...owned } } : w)) };
    const removals = plan(makeUpgrade(E2E_SPEC), mesh, T0).status.plan?.removals ?? [];
    assert.ok(removals.includes('MutatingWebhookConfiguration istio-sidecar-injector-1-30-4'), removals.join(', '));
    assert.ok(!removals.includes('MutatingWebhookConfiguration istio-revision-tag-default'), removals.join(', '));
  });
});
