// Issue 4, evidence 6: installer mode external (GitOps). The test plays Argo CD: it installs the new revision
// once the operator waits for it, and removes the old one when the operator asks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Kube } from '../../hack/e2e/kube.ts';
import { installRevision, tagRevision, uninstallRevision } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { OPERATOR_NAMESPACE } from '../../hack/e2e/operator.ts';
import { sampleSpec, freshScenario } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, getUpgrade, waitForPhase, waitForUpgrade } from '../../hack/e2e/upgrades.ts';

const NAME = 'gitops';

describe('end to end: GitOps (installer mode external)', { timeout: 20 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-gitops'));
    operator.start();
  });

  after(async () => {
    assert.equal(await operator.stop(), 0);
  });

  it('waits for the new revision to be installed by someone else', async () => {
    await createUpgrade(kube, NAME, sampleSpec(kube, { installer: { mode: 'external' } }));
    const waiting = await waitForUpgrade(kube, NAME, (u) => condition(u, 'RevisionInstalled')?.reason === 'WaitingForExternalInstall', 'waiting for the install', 120_000);
    assert.equal(waiting.status?.phase, 'Installing');
    assert.equal(condition(waiting, 'Reconciling')?.status, 'True');
    const { istioNew, istioNewRevision } = kube.info.versions;
    await installRevision(kube, istioNew, istioNewRevision);
  });

  it('goes on by itself and then asks for the old revision to be removed', async () => {
    const asking = await waitForUpgrade(kube, NAME, (u) => condition(u, 'OldRevisionRemoved')?.reason === 'WaitingForExternalRemoval', 'asking for removal', 600_000);
    assert.match(condition(asking, 'OldRevisionRemoved')?.message ?? '', /unused and safe to remove/);
    assert.equal(await tagRevision(kube), kube.info.versions.istioNewRevision);
    const { istioOld, istioOldRevision } = kube.info.versions;
    await uninstallRevision(kube, istioOld, istioOldRevision);
  });

  it('succeeds without ever running an istioctl Job', async () => {
    const done = await waitForPhase(kube, NAME, ['Succeeded', 'Failed', 'RolledBack'], 300_000);
    assert.equal(done.status?.phase, 'Succeeded');
    assert.equal(condition(done, 'RevisionInstalled')?.reason, 'InstalledExternally');
    const upgrade = await getUpgrade(kube, NAME);
    const jobs = await kube.batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE, labelSelector: `istioupgrade.dev/upgrade=${upgrade.metadata.uid}` });
    assert.deepEqual(jobs.items, []);
  });
});
