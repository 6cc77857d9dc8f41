// Issue 8 shape 8: Istio's documented two-tag pattern. Tags prod-canary and prod-stable both point at the old
// revision; foo is on prod-canary, bar on prod-stable, the rest on default. With spec.additionalTags each tag
// moves at its own wave boundary, after the previous soak passed. Without it, the second tag keeps the old
// revision in use: named in the plan and by the waiting uninstall.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { deleteNamespaces } from '../../hack/e2e/control-plane.ts';
import { InjectionProbe, PROBE_NAMESPACE, probeSummary, tagProbeNamespace } from '../../hack/e2e/injection-probe.ts';
import { kubectl, type Kube } from '../../hack/e2e/kube.ts';
import { podRevision, resetMesh, setTag, tagRevision } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { freshScenario } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, deleteUpgrade, waitForPhase, waitForUpgrade, outcomeSummary } from '../../hack/e2e/upgrades.ts';

async function splitTags(kube: Kube): Promise<void> {
  const { istioOld, istioOldRevision } = kube.info.versions;
  await setTag(kube, istioOld, istioOldRevision, 'prod-canary');
  await setTag(kube, istioOld, istioOldRevision, 'prod-stable');
  await kubectl(kube, ['label', 'namespace', 'foo', `${ISTIO_REV_LABEL}=prod-canary`, '--overwrite']);
  await kubectl(kube, ['label', 'namespace', 'bar', `${ISTIO_REV_LABEL}=prod-stable`, '--overwrite']);
}

interface ActionLine {
  time: string;
  action: string;
  target: string;
}

describe('end to end: two tags on the old revision (shape 8)', { timeout: 20 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  let probe: InjectionProbe | undefined;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-two-tags'));
    // The default probe namespace of earlier files (on the default tag) would join the rest wave asserted below.
    await deleteNamespaces(kube, [PROBE_NAMESPACE]);
    await splitTags(kube);
    operator.start();
  });

  after(async () => {
    await probe?.stop();
    assert.equal(await operator.stop(), 0);
  });

  it('moves prod-canary, then prod-stable, then default, each at its wave, with soaks between, and finishes', async () => {
    const { istioNewRevision, istioOldRevision } = kube.info.versions;
    // One probe namespace per tag: each pod must be injected by the revision its tag points at that moment.
    probe = new InjectionProbe(kube, ['prod-canary', 'prod-stable', 'default'].map((tag) => tagProbeNamespace(tag)));
    await probe.start();
    await createUpgrade(kube, 'two-tags', {
      version: kube.info.versions.istioNew,
      tag: 'prod-canary',
      additionalTags: ['prod-stable', 'default'],
      gateways: [],
      rollout: { waves: [{ name: 'canary' }, { name: 'stable', tag: 'prod-stable' }, { name: 'rest', tag: 'default', maxConcurrentNamespaces: 3 }], workloadTimeout: '3m' },
      soak: { duration: '8s' },
      uninstall: { gracePeriod: '5s' },
    });
    const done = await waitForPhase(kube, 'two-tags', ['Succeeded', 'Failed', 'RolledBack'], 12 * 60_000);
    console.log(`shape 8 outcome: ${outcomeSummary(done)}`);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure));
    const report = await probe.stop();
    probe = undefined;
    console.log(`two tags probe: ${probeSummary(report)}`);
    assert.deepEqual([report.rejected, report.notInjected, report.wrongRevision], [[], [], []]);
    assert.ok((report.revisions[istioOldRevision] ?? 0) > 0 && (report.revisions[istioNewRevision] ?? 0) > 0, 'probed before and after the switches');
    for (const tag of ['prod-canary', 'prod-stable', 'default']) assert.equal(await tagRevision(kube, tag), istioNewRevision, tag);
    assert.deepEqual(done.status?.waves?.map((w) => [w.name, w.namespaces.join(',')]), [['canary', 'foo,probe-prod-canary'], ['stable', 'bar,probe-prod-stable'], ['rest', 'baz,istio-ingress,probe-default,qux']]);

    const tagWrites = operator.log().split('\n').filter((l) => l.includes('"action":"applyTagWebhook"')).map((l) => JSON.parse(l) as ActionLine);
    const firstWrite = (tag: string) => tagWrites.find((w) => w.target === `tag ${tag} -> ${istioNewRevision}`)?.time ?? '';
    const wave = (name: string) => done.status?.waves?.find((w) => w.name === name);
    console.log(`two tags: prod-canary ${firstWrite('prod-canary')}; canary wave ${wave('canary')?.startedAt ?? '?'}..${wave('canary')?.completedAt ?? '?'}; prod-stable ${firstWrite('prod-stable')}; stable wave ${wave('stable')?.startedAt ?? '?'}..${wave('stable')?.completedAt ?? '?'}; default ${firstWrite('default')}; rest wave ${wave('rest')?.startedAt ?? '?'}`);
    // Each tag moves after the previous wave's soak passed, and before its own wave starts.
    assert.ok(firstWrite('prod-canary') !== '' && firstWrite('prod-canary') < (wave('canary')?.startedAt ?? ''));
    assert.ok((wave('canary')?.completedAt ?? '') <= firstWrite('prod-stable') && firstWrite('prod-stable') <= (wave('stable')?.startedAt ?? ''));
    assert.ok((wave('stable')?.completedAt ?? '') <= firstWrite('default') && firstWrite('default') <= (wave('rest')?.startedAt ?? ''));
    for (const ns of ['foo', 'bar', 'baz']) {
      for (const pod of (await kube.core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined && p.metadata?.labels?.['job-name'] === undefined)) {
        assert.equal(podRevision(pod), istioNewRevision, `${ns}/${pod.metadata?.name ?? ''}`);
      }
    }
    await deleteUpgrade(kube, 'two-tags');
  });

  it('without additionalTags, the other tags on the old revision are blockers, named by the waiting uninstall', async () => {
    await resetMesh(kube);
    await splitTags(kube);
    await createUpgrade(kube, 'one-tag', {
      version: kube.info.versions.istioNew,
      tag: 'prod-canary',
      gateways: [],
      rollout: { waves: [{ name: 'canary' }], workloadTimeout: '3m' },
      soak: { duration: '5s' },
      uninstall: { gracePeriod: '5s' },
    });
    const held = await waitForUpgrade(kube, 'one-tag', (u) => condition(u, 'OldRevisionRemoved')?.reason === 'RevisionInUse', 'the uninstall waiting', 8 * 60_000);
    const blockers = (held.status?.plan?.blockers ?? []).filter((b) => b.reason === 'OtherTagOnOldRevision').map((b) => b.name).sort();
    assert.deepEqual(blockers, ['default', 'prod-stable']);
    const message = condition(held, 'OldRevisionRemoved')?.message ?? '';
    assert.match(message, /tag prod-stable/);
    assert.match(message, /tag default/);
    assert.equal(condition(held, 'Stalled')?.status, 'True');
    await deleteUpgrade(kube, 'one-tag');
  });
});
