// Issue 4, evidence 2: the canary namespace's error ratio rises during its soak; the upgrade rolls back by
// itself and ends RolledBack with Stalled=True SoakFailed, the tag and the moved pods on the old revision.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { type Kube } from '../../hack/e2e/kube.ts';
import { GATEWAY, meshPods, podRevision, proxyImage, tagRevision } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { resetExporter, sampleSpec, setErrorRatio, freshScenario } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, waitForPhase, waitForUpgrade, type LiveUpgrade } from '../../hack/e2e/upgrades.ts';

const NAME = 'soak-failure';

describe('end to end: soak failure rolls back', { timeout: 20 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  let ended: LiveUpgrade;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-soak'));
    operator.start();
  });

  after(async () => {
    await resetExporter(kube);
    assert.equal(await operator.stop(), 0);
  });

  it('ends RolledBack with Stalled=True reason SoakFailed after the canary error ratio rises', async () => {
    await createUpgrade(kube, NAME, sampleSpec(kube, { soak: { ...sampleSpec(kube).soak, duration: '60s' } }));
    await waitForUpgrade(kube, NAME, (u) => u.status?.phase === 'Soaking' && u.status.soak?.target === 'wave:canary', 'soaking the canary');
    await setErrorRatio(kube, 'bar', 0.5);
    ended = await waitForPhase(kube, NAME, ['RolledBack', 'Failed', 'Succeeded']);
    assert.equal(ended.status?.phase, 'RolledBack', JSON.stringify(ended.status?.failure));
    const stalled = condition(ended, 'Stalled');
    assert.equal(stalled?.status, 'True');
    assert.equal(stalled.reason, 'SoakFailed');
    assert.match(stalled.message, /error-ratio=Failed \(0\.\d+ > max 0\.01\)/);
    assert.equal(condition(ended, 'Ready')?.status, 'False');
    assert.equal(ended.status?.waves?.find((w) => w.name === 'canary')?.state, 'RolledBack');
    assert.equal(ended.status?.waves?.find((w) => w.name === 'rest')?.state, 'Pending');
  });

  it('points the tag at the old revision again', async () => {
    assert.equal(await tagRevision(kube), kube.info.versions.istioOldRevision);
    const tag = await kube.admission.readMutatingWebhookConfiguration({ name: 'istio-revision-tag-default' });
    assert.equal(tag.metadata?.labels?.[ISTIO_REV_LABEL], kube.info.versions.istioOldRevision);
    for (const w of tag.webhooks ?? []) assert.equal(w.clientConfig.service?.name, `istiod-${kube.info.versions.istioOldRevision}`);
  });

  it('runs the canary namespace and the gateway on the old proxy again', async () => {
    const { istioOld, istioOldRevision } = kube.info.versions;
    const pods = await meshPods(kube);
    const moved = pods.filter((p) => p.metadata?.namespace === 'bar' || p.metadata?.namespace === GATEWAY.namespace);
    assert.ok(moved.length >= 4);
    for (const pod of moved) {
      assert.equal(podRevision(pod), istioOldRevision, pod.metadata?.name);
      assert.match(proxyImage(pod) ?? '', new RegExp(`proxyv2:${istioOld.replaceAll('.', '\\.')}$`));
    }
  });

  it('never removed the old revision', async () => {
    const d = await kube.apps.readNamespacedDeployment({ name: `istiod-${kube.info.versions.istioOldRevision}`, namespace: 'istio-system' });
    assert.ok((d.status?.readyReplicas ?? 0) >= 1);
  });
});
