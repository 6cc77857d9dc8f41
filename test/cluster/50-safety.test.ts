// Issue 4, evidence 5: a pod pinned to the old revision by its own istio.io/rev label blocks the uninstall;
// the status names it; deleting it lets the upgrade finish.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { ignoreNotFound, sleep, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { podRevision, revisionInstalled } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { sampleSpec, freshScenario } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, getUpgrade, waitForPhase, waitForUpgrade } from '../../hack/e2e/upgrades.ts';

const NAME = 'safety';
const LEGACY = 'legacy';

describe('end to end: a pinned pod blocks the uninstall', { timeout: 20 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-safety'));
    await ignoreNotFound(() => kube.core.deleteNamespace({ name: LEGACY }));
    await waitFor('legacy namespace gone', async () => !(await kube.core.listNamespace()).items.some((n) => n.metadata?.name === LEGACY), 120_000, 1000);
    await kube.core.createNamespace({ body: { metadata: { name: LEGACY } } });
    const { istioOldRevision } = kube.info.versions;
    await kube.core.createNamespacedPod({
      namespace: LEGACY,
      body: {
        metadata: { name: 'legacy-client', labels: { [ISTIO_REV_LABEL]: istioOldRevision } },
        spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'client', image: 'registry.example/client:1' }] },
      },
    });
    const pod = await kube.core.readNamespacedPod({ name: 'legacy-client', namespace: LEGACY });
    assert.equal(podRevision(pod), istioOldRevision, 'the old istiod injected the pinned pod');
    operator.start();
  });

  after(async () => {
    await ignoreNotFound(() => kube.core.deleteNamespace({ name: LEGACY }));
    assert.equal(await operator.stop(), 0);
  });

  it('holds in Uninstalling with RevisionInUse naming the pod, and keeps the old revision', async () => {
    await createUpgrade(kube, NAME, sampleSpec(kube));
    const blocked = await waitForUpgrade(kube, NAME, (u) => condition(u, 'OldRevisionRemoved')?.reason === 'RevisionInUse', 'blocked by the pinned pod', 600_000);
    assert.equal(blocked.status?.phase, 'Uninstalling');
    assert.match(condition(blocked, 'OldRevisionRemoved')?.message ?? '', /pod legacy\/legacy-client/);
    assert.equal(condition(blocked, 'Stalled')?.status, 'True');
    assert.equal(condition(blocked, 'Stalled')?.reason, 'RevisionInUse');
    await sleep(8000);
    const still = await getUpgrade(kube, NAME);
    assert.equal(still.status?.phase, 'Uninstalling');
    assert.ok(await revisionInstalled(kube, kube.info.versions.istioOldRevision), 'the old revision is still installed');
  });

  it('finishes once the pod is deleted', async () => {
    await kube.core.deleteNamespacedPod({ name: 'legacy-client', namespace: LEGACY, gracePeriodSeconds: 0 });
    const done = await waitForPhase(kube, NAME, ['Succeeded', 'Failed', 'RolledBack'], 300_000);
    assert.equal(done.status?.phase, 'Succeeded');
    assert.equal(condition(done, 'Stalled')?.status, 'False');
    assert.equal(await revisionInstalled(kube, kube.info.versions.istioOldRevision), false);
  });
});
