// Issue 4, evidence 4: bad input is rejected by the API server or ends in a clear status reason, and the
// cluster is untouched.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { sleep, type Kube } from '../../hack/e2e/kube.ts';
import { revisionInstalled, tagRevision } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { OPERATOR_NAMESPACE } from '../../hack/e2e/operator.ts';
import { generations, sampleSpec, freshScenario } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, deleteAllUpgrades, getUpgrade, patchUpgrade, waitForPhase, waitForUpgrade } from '../../hack/e2e/upgrades.ts';

async function rejection(request: () => Promise<unknown>): Promise<string> {
  try {
    await request();
  } catch (error) {
    if (error instanceof ApiException) return `${error.code}: ${String(error.body)}`;
    if (error instanceof Error) return error.message;
    throw error;
  }
  assert.fail('the API server accepted it');
}

describe('end to end: bad input', { timeout: 20 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  let before0: Map<string, number>;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-bad-input'));
    before0 = await generations(kube);
    operator.start();
  });

  after(async () => {
    await deleteAllUpgrades(kube);
    assert.equal(await operator.stop(), 0);
  });

  it('a malformed version is rejected by the API server (CRD schema)', async () => {
    const message = await rejection(() => createUpgrade(kube, 'malformed', sampleSpec(kube, { version: '1.31' })));
    assert.match(message, /^422: .*spec\.version.*should match/s);
  });

  it('a 3-minor jump ends Failed with VersionSkewTooLarge', async () => {
    await createUpgrade(kube, 'three-minors', sampleSpec(kube, { version: '1.33.0' }));
    const ended = await waitForPhase(kube, 'three-minors', ['Failed', 'Succeeded', 'RolledBack'], 60_000);
    assert.equal(ended.status?.phase, 'Failed');
    assert.equal(condition(ended, 'Stalled')?.reason, 'VersionSkewTooLarge');
    assert.match(condition(ended, 'Stalled')?.message ?? '', /spans 3 minor versions; a canary upgrade may skip at most 2/);
  });

  it('an installer image outside the operator\'s allowlist ends Failed with InstallerImageNotAllowed before any Job exists', async () => {
    const created = await createUpgrade(kube, 'evil-image', sampleSpec(kube, { installer: { istioctl: { image: 'evil.example/istioctl' } } }));
    const ended = await waitForPhase(kube, 'evil-image', ['Failed', 'Succeeded', 'RolledBack'], 60_000);
    assert.equal(condition(ended, 'Stalled')?.reason, 'InstallerImageNotAllowed');
    assert.match(condition(ended, 'Stalled')?.message ?? '', /installer image "evil.example\/istioctl" is not allowed/);
    const jobs = await kube.batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE, labelSelector: `istioupgrade.dev/upgrade=${created.metadata.uid}` });
    assert.deepEqual(jobs.items.map((j) => j.metadata?.name), [], 'no installer Job was created');
  });

  it('an unknown tag ends Failed with TagNotFound', async () => {
    await createUpgrade(kube, 'unknown-tag', sampleSpec(kube, { tag: 'stable' }));
    const ended = await waitForPhase(kube, 'unknown-tag', ['Failed', 'Succeeded', 'RolledBack'], 60_000);
    assert.equal(condition(ended, 'Stalled')?.reason, 'TagNotFound');
    assert.match(condition(ended, 'Stalled')?.message ?? '', /revision tag "stable" not found/);
  });

  it('a second upgrade on the same tag waits in Pending with WaitingForOtherUpgrade', async () => {
    // The first one is paused, so it holds the tag without changing anything.
    await createUpgrade(kube, 'first', sampleSpec(kube, { paused: true }));
    await waitForUpgrade(kube, 'first', (u) => condition(u, 'Reconciling')?.reason === 'Paused', 'first paused', 60_000);
    await createUpgrade(kube, 'second', sampleSpec(kube));
    const second = await waitForUpgrade(kube, 'second', (u) => condition(u, 'Ready')?.reason === 'WaitingForOtherUpgrade', 'second queued', 60_000);
    assert.equal(second.status?.phase, 'Pending');
    assert.match(condition(second, 'Ready')?.message ?? '', /IstioUpgrade first \(phase Prechecking\) is acting on tag "default"/);
    assert.equal(condition(second, 'Stalled')?.status, 'False');
  });

  it('an edit of spec.version mid-upgrade is rejected by the API server (immutable)', async () => {
    const message = await rejection(() => patchUpgrade(kube, 'first', { spec: { version: '1.31.1' } }));
    assert.match(message, /version is immutable: create a new IstioUpgrade/);
    assert.equal((await getUpgrade(kube, 'first')).spec.version, kube.info.versions.istioNew);
  });

  it('left the cluster untouched', async () => {
    await sleep(3000);
    assert.equal(await tagRevision(kube), kube.info.versions.istioOldRevision);
    assert.equal(await revisionInstalled(kube, kube.info.versions.istioNewRevision), false);
    const jobs = await kube.batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE, labelSelector: 'istioupgrade.dev/purpose=install' });
    assert.deepEqual(jobs.items.map((j) => j.metadata?.name), []);
    assert.deepEqual(await generations(kube), before0, 'no workload restarted');
  });
});
