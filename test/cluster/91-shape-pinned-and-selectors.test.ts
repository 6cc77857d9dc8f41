// Issue 8, shapes 3, 4 and 5, on the sample mesh plus:
// - namespace `pinned` labelled istio.io/rev=<old> (shape 3): never restarted, a blocker in the plan, named by
//   the uninstall, which waits; with rollout.adoptPinnedNamespaces it is relabelled onto the tag and moved;
// - in tag namespace foo, a template pinned with istio.io/rev=<old> (shape 4): not moved, reported, blocks;
// - namespace `unlabelled`: a template labelled istio.io/rev=default and one labelled
//   sidecar.istio.io/inject=true (shape 4): both moved through the default tag's rev.object / object entries;
// - a hostNetwork Deployment in bar, and namespace `late` labelled onto the tag after its pods started without a
//   sidecar (shape 5): never restarted, never waited on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { InjectionProbe, probeSummary, tagProbeNamespace } from '../../hack/e2e/injection-probe.ts';
import { ignoreNotFound, kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { applyObjects, podRevision, resetMesh } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { freshScenario } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, deleteUpgrade, getUpgrade, waitForUpgrade, outcomeSummary } from '../../hack/e2e/upgrades.ts';
import { deployment, shapeNamespace } from '../../hack/e2e/workloads.ts';

const MOVED = ['bar/bar-web', 'unlabelled/rev-labelled', 'unlabelled/opted-in'];
const NOT_MOVED = ['foo/foo-pinned', 'bar/bar-host', 'late/no-sidecar', 'pinned/legacy-app'];

async function generation(kube: Kube, key: string): Promise<number> {
  const [namespace = '', name = ''] = key.split('/');
  return (await kube.apps.readNamespacedDeployment({ name, namespace })).metadata?.generation ?? 0;
}

async function podsOf(kube: Kube, key: string) {
  const [namespace = '', name = ''] = key.split('/');
  return (await kube.core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items.filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.phase === 'Running');
}

/** The sample mesh plus the shapes; `late` gets its tag label only after its pods run without a sidecar. */
async function addShapes(kube: Kube, oldRevision: string): Promise<void> {
  await applyObjects(kube, [
    shapeNamespace('pinned', { [ISTIO_REV_LABEL]: oldRevision }),
    shapeNamespace('unlabelled'),
    shapeNamespace('late'),
    deployment('pinned', 'legacy-app'),
    deployment('foo', 'foo-pinned', { templateLabels: { [ISTIO_REV_LABEL]: oldRevision } }),
    deployment('unlabelled', 'rev-labelled', { templateLabels: { [ISTIO_REV_LABEL]: 'default' } }),
    deployment('unlabelled', 'opted-in', { templateLabels: { 'sidecar.istio.io/inject': 'true' } }),
    deployment('bar', 'bar-host', { hostNetwork: true }),
    deployment('late', 'no-sidecar'),
  ]);
  await waitFor('shape workloads running', async () => {
    for (const key of [...MOVED, ...NOT_MOVED]) if ((await podsOf(kube, key)).length === 0) return false;
    return (await podsOf(kube, 'late/no-sidecar')).every((p) => podRevision(p) === undefined);
  }, 120_000, 1000);
  await kubectl(kube, ['label', 'namespace', 'late', `${ISTIO_REV_LABEL}=default`, '--overwrite']);
}

const spec = (kube: Kube, extra: object = {}) => ({
  version: kube.info.versions.istioNew,
  rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 3 }], workloadTimeout: '3m', ...extra },
  soak: { duration: '5s' },
  uninstall: { gracePeriod: '5s' },
});

describe('end to end: pinned namespaces, object selectors, workloads that are not injected (shapes 3, 4, 5)', { timeout: 25 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  let probe: InjectionProbe | undefined;
  const before0 = new Map<string, number>();

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-shapes'));
    await addShapes(kube, kube.info.versions.istioOldRevision);
    for (const key of [...MOVED, ...NOT_MOVED]) before0.set(key, await generation(kube, key));
    operator.start();
  });

  after(async () => {
    await probe?.stop();
    assert.equal(await operator.stop(), 0);
  });

  it('moves exactly what the tag webhook selects, and waits at the uninstall naming what pins the old revision', async () => {
    const { istioOldRevision, istioNewRevision } = kube.info.versions;
    probe = new InjectionProbe(kube, [tagProbeNamespace()]);
    await probe.start();
    await createUpgrade(kube, 'shapes', spec(kube));
    const held = await waitForUpgrade(kube, 'shapes', (u) => condition(u, 'OldRevisionRemoved')?.reason === 'RevisionInUse', 'the uninstall waiting', 8 * 60_000);
    assert.equal(held.status?.phase, 'Uninstalling');
    assert.equal(condition(held, 'Stalled')?.status, 'True');
    const message = condition(held, 'OldRevisionRemoved')?.message ?? '';
    assert.match(message, /namespace pinned/);
    assert.match(message, /pod pinned\/legacy-app-/);
    assert.match(message, /pod foo\/foo-pinned-/);
    assert.doesNotMatch(message, /bar-host|no-sidecar/, 'not-injected workloads hold nothing');
    for (const key of MOVED) {
      assert.equal(await generation(kube, key), (before0.get(key) ?? 0) + 1, `${key} restarted once`);
      for (const pod of await podsOf(kube, key)) assert.equal(podRevision(pod), istioNewRevision, pod.metadata?.name);
    }
    for (const key of NOT_MOVED) assert.equal(await generation(kube, key), before0.get(key), `${key} never restarted`);
    for (const pod of await podsOf(kube, 'foo/foo-pinned')) assert.equal(podRevision(pod), istioOldRevision);

    const plan = held.status?.plan;
    const blockers = (plan?.blockers ?? []).map((b) => `${b.kind} ${b.name} ${b.reason}`);
    console.log(`shapes 3-5 plan blockers: ${JSON.stringify(blockers)}; skipped: ${JSON.stringify((plan?.skipped ?? []).map((s) => `${s.name} ${s.reason}`))}`);
    assert.ok(blockers.includes('Namespace pinned PinnedNamespace'), blockers.join('; '));
    assert.ok(blockers.includes('Deployment foo/foo-pinned PinnedToRevision'));
    assert.ok(blockers.includes('Deployment pinned/legacy-app NotOnTag'));
    const skipped = (plan?.skipped ?? []).map((s) => `${s.name} ${s.reason}`);
    assert.ok(skipped.includes('bar/bar-host HostNetwork'), skipped.join('; '));
    assert.ok(skipped.includes('late/no-sidecar NotInjected'));
  });

  it('finishes by itself once the pinned namespace and template are gone', async () => {
    await ignoreNotFound(() => kube.apps.deleteNamespacedDeployment({ name: 'foo-pinned', namespace: 'foo' }));
    await ignoreNotFound(() => kube.core.deleteNamespace({ name: 'pinned' }));
    const done = await waitForUpgrade(kube, 'shapes', (u) => u.status?.phase === 'Succeeded' || u.status?.phase === 'Failed', 'the end', 5 * 60_000);
    console.log(`shapes 3-5 outcome: ${outcomeSummary(done)}`);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure));
    const report = (await probe?.stop()) ?? assert.fail('no probe');
    probe = undefined;
    console.log(`shapes 3-5 probe: ${probeSummary(report)}`);
    assert.deepEqual([report.rejected, report.notInjected, report.wrongRevision], [[], [], []]);
    assert.ok((report.revisions[kube.info.versions.istioOldRevision] ?? 0) > 0 && (report.revisions[kube.info.versions.istioNewRevision] ?? 0) > 0, 'probed before and after the switch');
    await deleteUpgrade(kube, 'shapes');
  });

  it('with adoptPinnedNamespaces, relabels the pinned namespace onto the tag in its wave and moves it', async () => {
    await resetMesh(kube);
    await addShapes(kube, kube.info.versions.istioOldRevision);
    await ignoreNotFound(() => kube.apps.deleteNamespacedDeployment({ name: 'foo-pinned', namespace: 'foo' }));
    const generationBefore = await generation(kube, 'pinned/legacy-app');
    await createUpgrade(kube, 'adopt', spec(kube, { adoptPinnedNamespaces: true }));
    const done = await waitForUpgrade(kube, 'adopt', (u) => ['Succeeded', 'Failed', 'RolledBack'].includes(u.status?.phase ?? ''), 'the end', 8 * 60_000);
    console.log(`shape 3 adopt outcome: ${outcomeSummary(done)}`);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure ?? done.status?.conditions));
    const pinned = await kube.core.readNamespace({ name: 'pinned' });
    assert.equal(pinned.metadata?.labels?.[ISTIO_REV_LABEL], 'default', 'relabelled onto the tag');
    assert.equal(await generation(kube, 'pinned/legacy-app'), generationBefore + 1);
    for (const pod of await podsOf(kube, 'pinned/legacy-app')) assert.equal(podRevision(pod), kube.info.versions.istioNewRevision);
    assert.ok(done.status?.waves?.find((w) => w.name === 'rest')?.namespaces.includes('pinned'));
    const upgrade = await getUpgrade(kube, 'adopt');
    assert.equal(condition(upgrade, 'OldRevisionRemoved')?.reason, 'Removed');
  });
});
