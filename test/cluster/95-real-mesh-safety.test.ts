// Issue 9 items 1, 3, 5 and 6 on the hermetic cluster, with the real istioctl:
// - a CNI-like DaemonSet of the old revision (labels as istioctl sets them) is named at the precheck and holds
//   the uninstall, which would delete it; an Evicted (Failed) pod with the old proxy does not;
// - the precheck Job passes --from-version <old major.minor> and the Istio namespace;
// - the tag starts with istioctl's owner labels (as `istioctl install` leaves a tag it created); after Succeeded
//   it has none, and re-running `istioctl install --set revision=<new>` leaves the tag webhook and the validator
//   in place and new pods injected; a copy carrying the istioctl owner labels is pruned by that same install;
// - a rollback waits while the old istiod is not Ready, lists the new-proxy pod it does not restart, and with
//   rollback.removeNewRevision removes the canary revision once that pod is gone (not while it runs its proxy).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE, ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { installedLabels } from '../../hack/e2e/control-plane.ts';
import { exists, ignoreNotFound, istioctl, kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { applyObjects, podRevision, resetMesh, revisionInstalled, tagRevision } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { freshScenario, resetExporter, sampleSpec, setErrorRatio } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, deleteUpgrade, getUpgrade, waitForPhase, waitForUpgrade } from '../../hack/e2e/upgrades.ts';
import { daemonSet } from '../../hack/e2e/workloads.ts';

const quick = (kube: Kube, extra: object = {}) => ({ ...sampleSpec(kube), soak: { duration: '5s' }, ...extra });

async function barePod(kube: Kube, name: string): Promise<void> {
  await kube.core.createNamespacedPod({ namespace: 'bar', body: { metadata: { name }, spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'debug', image: 'registry.example/debug:1' }] } } });
  await waitFor(`${name} running`, async () => (await kube.core.readNamespacedPod({ name, namespace: 'bar' })).status?.phase === 'Running', 60_000);
}

describe('end to end: never break the mesh at install, uninstall or rollback (issue 9)', { timeout: 25 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-safety-9'));
    // As `istioctl install` leaves a tag it created: with its owner labels, set by another field manager.
    const canonical = await kube.admission.readMutatingWebhookConfiguration({ name: `istio-sidecar-injector-${kube.info.versions.istioOldRevision}` });
    const owner = Object.entries(canonical.metadata?.labels ?? {}).filter(([k]) => k.includes('operator.istio.io')).map(([k, v]) => `${k}=${v}`);
    assert.ok(owner.length > 0, 'the canonical webhook carries istioctl owner labels');
    await kubectl(kube, ['label', 'mutatingwebhookconfiguration', 'istio-revision-tag-default', ...owner, '--overwrite']);
    operator.start();
  });

  after(async () => {
    await ignoreNotFound(() => kube.apps.deleteNamespacedDaemonSet({ name: 'istio-cni-node', namespace: 'kube-system' }));
    await resetExporter(kube);
    assert.equal(await operator.stop(), 0);
  });

  it('a CNI DaemonSet of the old revision holds the uninstall (named at the precheck); an Evicted pod does not', async () => {
    const { istioOldRevision } = kube.info.versions;
    const owner = await installedLabels(kube, `istiod-${istioOldRevision}`);
    await applyObjects(kube, [daemonSet('kube-system', 'istio-cni-node', {
      hostNetwork: true,
      labels: {
        [ISTIO_REV_LABEL]: istioOldRevision,
        'operator.istio.io/component': 'Cni',
        'install.operator.istio.io/owning-resource': owner['install.operator.istio.io/owning-resource'] ?? 'unknown',
        'install.operator.istio.io/owning-resource-namespace': owner['install.operator.istio.io/owning-resource-namespace'] ?? ISTIO_NAMESPACE,
      },
    })]);
    // A pod with the old proxy, evicted: Failed for ever.
    await barePod(kube, 'evicted-client');
    await kubectl(kube, ['patch', 'pod', 'evicted-client', '-n', 'bar', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } })]);
    assert.equal((await kube.core.readNamespacedPod({ name: 'evicted-client', namespace: 'bar' })).status?.phase, 'Failed');

    await createUpgrade(kube, 'cni', quick(kube));
    const held = await waitForUpgrade(kube, 'cni', (u) => condition(u, 'OldRevisionRemoved')?.reason === 'RevisionInUse', 'the uninstall waiting', 8 * 60_000);
    assert.ok(held.status?.plan?.warnings?.some((w) => w.includes('Istio CNI node agent DaemonSet kube-system/istio-cni-node')), JSON.stringify(held.status?.plan?.warnings));
    const message = condition(held, 'OldRevisionRemoved')?.message ?? '';
    assert.match(message, /component kube-system\/istio-cni-node \(Istio CNI node agent DaemonSet kube-system\/istio-cni-node \(operator\.istio\.io\/component=Cni\) would be deleted by istioctl uninstall\)/);
    assert.doesNotMatch(message, /evicted-client/);
    assert.equal(condition(held, 'Stalled')?.status, 'True');
    assert.equal(await revisionInstalled(kube, istioOldRevision), true, 'nothing removed');

    await kube.apps.deleteNamespacedDaemonSet({ name: 'istio-cni-node', namespace: 'kube-system' });
    const done = await waitForPhase(kube, 'cni', ['Succeeded', 'Failed', 'RolledBack'], 5 * 60_000);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure));
    await ignoreNotFound(() => kube.core.deleteNamespacedPod({ name: 'evicted-client', namespace: 'bar' }));
  });

  it('ran istioctl x precheck with --from-version <old major.minor> and the Istio namespace', async () => {
    const upgrade = await getUpgrade(kube, 'cni');
    const jobs = await kube.batch.listNamespacedJob({ namespace: 'istio-upgrade-operator', labelSelector: `istioupgrade.dev/upgrade=${upgrade.metadata.uid},istioupgrade.dev/purpose=precheck` });
    const args = jobs.items[0]?.spec?.template.spec?.containers[0]?.args ?? [];
    assert.deepEqual(args, ['x', 'precheck', '--revision', kube.info.versions.istioNewRevision, '--from-version', kube.info.versions.istioOld.split('.').slice(0, 2).join('.'), '--istioNamespace', ISTIO_NAMESPACE]);
    assert.equal(jobs.items[0]?.status?.succeeded, 1, 'istioctl accepted them');
  });

  it('re-running `istioctl install --set revision=<new>` keeps the tag and the validator; new pods are injected', async () => {
    const { istioNew, istioNewRevision } = kube.info.versions;
    // What the tag webhook looked like before the fix: the canonical webhook's labels, istioctl's owner labels included.
    const canonical = await kube.admission.readMutatingWebhookConfiguration({ name: `istio-sidecar-injector-${istioNewRevision}` });
    const tag = await kube.admission.readMutatingWebhookConfiguration({ name: 'istio-revision-tag-default' });
    assert.deepEqual(Object.keys(tag.metadata?.labels ?? {}).filter((k) => k.includes('operator.istio.io')), [], 'the tag carries no istioctl owner label');
    await kube.admission.createMutatingWebhookConfiguration({
      body: { metadata: { name: 'istio-revision-tag-with-owner-labels', labels: { ...canonical.metadata?.labels, 'istio.io/tag': 'owner-labels' } }, webhooks: (canonical.webhooks ?? []).map((w) => ({ name: w.name, clientConfig: w.clientConfig, rules: w.rules ?? [], sideEffects: w.sideEffects, admissionReviewVersions: w.admissionReviewVersions, namespaceSelector: { matchLabels: { 'iuo.test/never': 'match' } } })) },
    });
    await istioctl(kube, istioNew, ['install', '-y', '--set', `revision=${istioNewRevision}`, '--set', 'profile=minimal']);
    assert.equal(await exists(() => kube.admission.readMutatingWebhookConfiguration({ name: 'istio-revision-tag-default' })), true, 'the tag webhook survives the re-install');
    assert.equal(await exists(() => kube.admission.readValidatingWebhookConfiguration({ name: 'istiod-default-validator' })), true, 'the validator survives the re-install');
    assert.equal(await exists(() => kube.admission.readMutatingWebhookConfiguration({ name: 'istio-revision-tag-with-owner-labels' })), false, 'with the owner labels it would have been pruned');
    assert.equal(await tagRevision(kube), istioNewRevision);
    const pod = await kube.core.createNamespacedPod({ namespace: 'bar', body: { metadata: { name: 'after-reinstall' }, spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'app', image: 'registry.example/app:1' }] } } });
    assert.equal(podRevision(pod), istioNewRevision, 'injected by the new revision through the tag');
    await ignoreNotFound(() => kube.core.deleteNamespacedPod({ name: 'after-reinstall', namespace: 'bar', gracePeriodSeconds: 0 }));
    await deleteUpgrade(kube, 'cni');
  });

  it('a rollback waits while the old istiod is not Ready, lists what it leaves on the new proxy, and removes the new revision', async () => {
    const { istioOldRevision, istioNewRevision } = kube.info.versions;
    await resetMesh(kube);
    await resetExporter(kube);
    const oldIstiod = `istiod-${istioOldRevision}`;
    await createUpgrade(kube, 'rollback', sampleSpec(kube, { soak: { ...sampleSpec(kube).soak, duration: '60s' }, rollback: { removeNewRevision: true } }));
    await waitForUpgrade(kube, 'rollback', (u) => u.status?.phase === 'Soaking' && u.status.soak?.target === 'wave:canary', 'soaking the canary');
    await barePod(kube, 'debug-shell');
    assert.equal(podRevision(await kube.core.readNamespacedPod({ name: 'debug-shell', namespace: 'bar' })), istioNewRevision);
    // The old istiod goes away for a while (its autoscaler would bring it straight back).
    await kubectl(kube, ['delete', 'horizontalpodautoscaler', oldIstiod, '-n', ISTIO_NAMESPACE, '--ignore-not-found']);
    await kubectl(kube, ['scale', 'deployment', oldIstiod, '-n', ISTIO_NAMESPACE, '--replicas=0']);
    await waitFor('old istiod not Ready', async () => ((await kube.apps.readNamespacedDeployment({ name: oldIstiod, namespace: ISTIO_NAMESPACE })).status?.readyReplicas ?? 0) === 0, 60_000);
    await setErrorRatio(kube, 'bar', 0.5);
    const waiting = await waitForUpgrade(kube, 'rollback', (u) => condition(u, 'Ready')?.reason === 'WaitingForOldRevision', 'the rollback waiting for the old istiod', 120_000);
    assert.equal(waiting.status?.phase, 'RollingBack');
    assert.equal(condition(waiting, 'Stalled')?.status, 'False');
    assert.equal(await tagRevision(kube), istioNewRevision, 'the tag is not moved onto an istiod that cannot answer');
    await kubectl(kube, ['scale', 'deployment', oldIstiod, '-n', ISTIO_NAMESPACE, '--replicas=1']);
    // Back on the old revision; the new one is not removed while the debug pod still runs its proxy.
    const holding = await waitForUpgrade(kube, 'rollback', (u) => condition(u, 'Ready')?.reason === 'RevisionInUse', 'the removal of the new revision waiting', 5 * 60_000);
    assert.equal(holding.status?.phase, 'RollingBack');
    assert.match(condition(holding, 'Ready')?.message ?? '', /revision 1-31-0 is not removed while it is used by pod bar\/debug-shell/);
    assert.equal(await tagRevision(kube), istioOldRevision);
    assert.equal(await revisionInstalled(kube, istioNewRevision), true);
    await kube.core.deleteNamespacedPod({ name: 'debug-shell', namespace: 'bar', gracePeriodSeconds: 0 });
    const ended = await waitForPhase(kube, 'rollback', ['RolledBack', 'Failed', 'Succeeded'], 5 * 60_000);
    assert.equal(ended.status?.phase, 'RolledBack', JSON.stringify(ended.status?.failure));
    assert.equal(ended.status?.failure?.reason, 'SoakFailed');
    assert.ok(holding.status?.rollback?.notMovedBack?.some((p) => p.startsWith('bar/debug-shell (bare pod)')), JSON.stringify(holding.status?.rollback));
    assert.equal(await tagRevision(kube), istioOldRevision);
    await waitFor('the new revision removed', async () => !(await revisionInstalled(kube, istioNewRevision)), 120_000);
    assert.equal(await revisionInstalled(kube, istioOldRevision), true);
  });
});
