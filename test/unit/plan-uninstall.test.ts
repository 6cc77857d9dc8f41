import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import type { IstioUpgrade } from '../../src/api/schema.ts';
import { findCondition } from '../../src/core/conditions.ts';
import type { ObservedState } from '../../src/core/observed.ts';
import { plan } from '../../src/core/plan.ts';
import { referencesTo } from '../../src/core/inventory.ts';
import { E2E_SPEC, NEW, OLD, injectorWebhook, makeUpgrade, namespace, pod, revisionState, sampleMesh, tagWebhook } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

function untilUninstalling(mesh: FakeMesh, spec = E2E_SPEC): { upgrade: IstioUpgrade; now: Date } {
  const held = walk(makeUpgrade(spec), mesh, { stopWhen: (u) => u.status.phase === 'Uninstalling' });
  assert.equal(held.upgrade.status.phase, 'Uninstalling');
  return { upgrade: held.upgrade, now: held.now };
}

describe('who uses a revision', () => {
  const base = sampleMesh();
  const cases: { name: string; mesh: ObservedState; expected: string[]; revision?: string }[] = [
    { name: 'the tag, every namespace-labelled workload pod', mesh: base, expected: ['tag default'] },
    { name: "a namespace pinned by label to the revision's own injector", mesh: { ...base, workloads: [], mutatingWebhooks: [injectorWebhook(OLD.revision)], namespaces: [namespace('legacy', { [ISTIO_REV_LABEL]: OLD.revision })] }, expected: ['namespace legacy'] },
    {
      name: 'a namespace on the default tag is not a user of a revision named "default" (the tag is not the revision)',
      mesh: { ...base, workloads: [], mutatingWebhooks: [injectorWebhook('default'), tagWebhook('default', NEW.revision)].map((w) => (w.name === 'istio-sidecar-injector' ? { ...w, webhooks: [] } : w)), namespaces: [namespace('apps', { [ISTIO_REV_LABEL]: 'default' })] },
      expected: [],
      revision: 'default',
    },
    { name: 'a running pod with the old proxy', mesh: { ...base, workloads: [], mutatingWebhooks: [], otherPods: [pod('bar', 'pinned', OLD.revision, { labels: { [ISTIO_REV_LABEL]: OLD.revision } })] }, expected: ['pod bar/pinned'] },
    { name: 'a pod labelled with the revision but running no proxy of it is not a user', mesh: { ...base, workloads: [], mutatingWebhooks: [], otherPods: [pod('bar', 'plain', undefined, { labels: { [ISTIO_REV_LABEL]: OLD.revision } })] }, expected: [] },
    { name: 'an Evicted (Failed) pod of an old ReplicaSet does not pin the revision', mesh: { ...base, workloads: [], mutatingWebhooks: [], otherPods: [pod('bar', 'evicted', OLD.revision, { phase: 'Failed', owner: { kind: 'ReplicaSet', name: 'api-123' } })] }, expected: [] },
    { name: 'a Succeeded pod does not count', mesh: { ...base, workloads: [], mutatingWebhooks: [], otherPods: [pod('bar', 'done', OLD.revision, { phase: 'Succeeded' })] }, expected: [] },
    {
      name: 'a Failed pod of a finished Job does not pin the revision',
      mesh: { ...base, workloads: [], mutatingWebhooks: [], otherPods: [pod('bar', 'job-1', OLD.revision, { phase: 'Failed', owner: { kind: 'Job', name: 'j' }, ownerJobFinished: true })] },
      expected: [],
    },
    {
      name: 'a Running pod of a Job still running does',
      mesh: { ...base, workloads: [], mutatingWebhooks: [], otherPods: [pod('bar', 'job-1', OLD.revision, { phase: 'Running', owner: { kind: 'Job', name: 'j' }, ownerJobFinished: false })] },
      expected: ['pod bar/job-1'],
    },
    {
      name: "istiod's own pods are not users",
      mesh: { ...base, workloads: [], mutatingWebhooks: [], otherPods: [pod('istio-system', 'istiod-1-30-4-abc', undefined, { labels: { app: 'istiod', [ISTIO_REV_LABEL]: OLD.revision } })] },
      expected: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const refs = referencesTo(c.revision ?? OLD.revision, c.mesh).map((r) => `${r.kind} ${r.name}`);
      if (c.name.startsWith('the tag')) {
        assert.ok(refs.includes('tag default'));
        assert.equal(refs.filter((r) => r.startsWith('pod ')).length, 17, 'every injected workload pod (not the Succeeded Job pod)');
      } else {
        assert.deepEqual(refs, c.expected);
      }
    });
  }
});

describe('uninstall', () => {
  it('a pod pinned to the old revision blocks the uninstall, is named, and deleting it lets the upgrade finish', () => {
    const mesh = new FakeMesh(sampleMesh({ otherPods: [...sampleMesh().otherPods, pod('bar', 'legacy-client', OLD.revision, { labels: { [ISTIO_REV_LABEL]: OLD.revision } })] }));
    const { upgrade, now } = untilUninstalling(mesh);
    const blocked = plan(upgrade, mesh.observed, new Date(now.getTime() + 3_600_000));
    assert.deepEqual(blocked.actions, []);
    const removed = findCondition(blocked.status.conditions ?? [], 'OldRevisionRemoved');
    assert.equal(removed?.reason, 'RevisionInUse');
    assert.match(removed.message, /pod bar\/legacy-client/);
    assert.equal(findCondition(blocked.status.conditions ?? [], 'Stalled')?.status, 'True');
    assert.equal(findCondition(blocked.status.conditions ?? [], 'Stalled')?.reason, 'RevisionInUse');
    assert.ok(mesh.observed.revisions.some((r) => r.revision === OLD.revision));

    mesh.observed = { ...mesh.observed, otherPods: mesh.observed.otherPods.filter((p) => p.name !== 'legacy-client') };
    const done = walk({ ...upgrade, status: blocked.status }, mesh, { start: new Date(now.getTime() + 3_600_000) });
    assert.equal(done.upgrade.status.phase, 'Succeeded');
    assert.equal(findCondition(done.upgrade.status.conditions ?? [], 'Stalled')?.status, 'False');
  });

  it('a terminating pod is a transient reference: waiting, not stalled', () => {
    const mesh = new FakeMesh(sampleMesh({ otherPods: [pod('bar', 'old', OLD.revision, { terminating: true })] }));
    const { upgrade, now } = untilUninstalling(mesh);
    const result = plan(upgrade, mesh.observed, now);
    assert.equal(findCondition(result.status.conditions ?? [], 'Stalled')?.status, 'False');
    assert.equal(findCondition(result.status.conditions ?? [], 'Reconciling')?.status, 'True');
  });

  it('waits gracePeriod after the revision became unused, then runs the uninstall Job once', () => {
    const mesh = new FakeMesh(sampleMesh());
    const { upgrade, now } = untilUninstalling(mesh);
    const first = plan(upgrade, mesh.observed, now);
    assert.deepEqual(first.actions, []);
    assert.equal(findCondition(first.status.conditions ?? [], 'OldRevisionRemoved')?.reason, 'GracePeriod');
    const unusedSince = Date.parse(first.status.oldRevisionUnusedSince ?? '');
    const early = plan({ ...upgrade, status: first.status }, mesh.observed, new Date(unusedSince + 9 * 60_000));
    assert.deepEqual(early.actions, []);
    assert.equal(early.requeueAfterMs, 60_000);
    const due = plan({ ...upgrade, status: first.status }, mesh.observed, new Date(unusedSince + 10 * 60_000));
    assert.deepEqual(due.actions.map((a) => a.type === 'runInstallerJob' && a.args), [['uninstall', '--revision', OLD.revision, '-y', '--istioNamespace', 'istio-system']]);
  });

  it('the revision gone while istioctl uninstall still runs: waits for its Job, then succeeds and revokes its binding', () => {
    const mesh = new FakeMesh(sampleMesh());
    const { upgrade, now } = untilUninstalling(mesh);
    const first = plan(upgrade, mesh.observed, now);
    const unusedSince = Date.parse(first.status.oldRevisionUnusedSince ?? '');
    const due = plan({ ...upgrade, status: first.status }, mesh.observed, new Date(unusedSince + 10 * 60_000));
    const job = due.actions.find((a) => a.type === 'runInstallerJob');
    assert.ok(job !== undefined);
    const gone = { ...mesh.observed, revisions: mesh.observed.revisions.filter((r) => r.revision !== OLD.revision), mutatingWebhooks: mesh.observed.mutatingWebhooks.filter((w) => w.labels[ISTIO_REV_LABEL] !== OLD.revision), installerAccess: { grantedFor: job.jobName } };
    const later = new Date(unusedSince + 11 * 60_000);
    const running = plan({ ...upgrade, status: due.status }, { ...gone, jobs: [{ name: job.jobName, outcome: 'Running', message: undefined, completedAt: undefined }] }, later);
    assert.equal(running.status.phase, 'Uninstalling');
    assert.deepEqual(running.actions, []);
    const finished = plan({ ...upgrade, status: running.status }, { ...gone, jobs: [{ name: job.jobName, outcome: 'Succeeded', message: undefined, completedAt: later.toISOString() }] }, later);
    assert.equal(finished.status.phase, 'Succeeded');
    assert.deepEqual(finished.actions, [{ type: 'revokeInstallerAccess', jobName: job.jobName }]);
  });

  it('a reference appearing during the grace period restarts it', () => {
    const mesh = new FakeMesh(sampleMesh());
    const { upgrade, now } = untilUninstalling(mesh);
    const first = plan(upgrade, mesh.observed, now);
    const withRef = { ...mesh.observed, namespaces: [...mesh.observed.namespaces, namespace('late', { [ISTIO_REV_LABEL]: OLD.revision })] };
    const blocked = plan({ ...upgrade, status: first.status }, withRef, new Date(now.getTime() + 60_000));
    assert.equal(blocked.status.oldRevisionUnusedSince, undefined);
    assert.match(findCondition(blocked.status.conditions ?? [], 'OldRevisionRemoved')?.message ?? '', /namespace late/);
  });

  it('never uninstalls while a tag still points at the old revision', () => {
    const mesh = new FakeMesh(sampleMesh({ mutatingWebhooks: [...sampleMesh().mutatingWebhooks, tagWebhook('stable', OLD.revision)] }));
    const { upgrade, now } = untilUninstalling(mesh);
    const later = plan(upgrade, mesh.observed, new Date(now.getTime() + 86_400_000));
    assert.deepEqual(later.actions, []);
    assert.match(findCondition(later.status.conditions ?? [], 'OldRevisionRemoved')?.message ?? '', /tag stable/);
  });

  it('external mode waits for someone else to install and to remove revisions', () => {
    const mesh = new FakeMesh(sampleMesh());
    const spec = { ...E2E_SPEC, installer: { mode: 'external' as const } };
    const waiting = walk(makeUpgrade(spec), mesh, { maxPasses: 20 });
    assert.equal(waiting.upgrade.status.phase, 'Installing');
    assert.equal(findCondition(waiting.upgrade.status.conditions ?? [], 'RevisionInstalled')?.reason, 'WaitingForExternalInstall');
    assert.equal(mesh.jobRuns.size, 0, 'no istioctl Job in external mode');
    // Argo CD installs the new revision
    mesh.observed = { ...mesh.observed, revisions: [...mesh.observed.revisions, revisionState(NEW.revision, NEW.version)], mutatingWebhooks: [...mesh.observed.mutatingWebhooks, injectorWebhook(NEW.revision)] };
    const atRemoval = walk(waiting.upgrade, mesh, { start: waiting.now, stopWhen: (u) => findCondition(u.status.conditions ?? [], 'OldRevisionRemoved')?.reason === 'WaitingForExternalRemoval' });
    assert.equal(atRemoval.upgrade.status.phase, 'Uninstalling');
    assert.equal(mesh.jobRuns.size, 0);
    // Argo CD removes the old revision
    mesh.observed = { ...mesh.observed, revisions: mesh.observed.revisions.filter((r) => r.revision !== OLD.revision), mutatingWebhooks: mesh.observed.mutatingWebhooks.filter((w) => w.name !== `istio-sidecar-injector-${OLD.revision}`) };
    const done = walk(atRemoval.upgrade, mesh, { start: atRemoval.now });
    assert.equal(done.upgrade.status.phase, 'Succeeded');
    assert.equal(findCondition(done.upgrade.status.conditions ?? [], 'RevisionInstalled')?.reason, 'InstalledExternally');
  });

  it('adopts an existing Ready revision of the same version instead of installing it', () => {
    const mesh = new FakeMesh(sampleMesh({ revisions: [revisionState(OLD.revision, OLD.version), revisionState(NEW.revision, NEW.version)], mutatingWebhooks: [...sampleMesh().mutatingWebhooks, injectorWebhook(NEW.revision)] }));
    const result = walk(makeUpgrade(E2E_SPEC), mesh);
    assert.equal(result.upgrade.status.phase, 'Succeeded');
    assert.equal(result.upgrade.status.adoptedRevision, true);
    assert.ok(![...mesh.jobRuns.keys()].some((k) => k.includes('-install-')));
    assert.equal(findCondition(result.upgrade.status.conditions ?? [], 'RevisionInstalled')?.reason, 'Adopted');
  });
});
