// Issue 4, evidence 7: `paused` halts before the next action and resumes when cleared; `requireApproval` on the
// second wave holds it until the approve annotation names it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APPROVE_ANNOTATION } from '../../src/api/constants.ts';
import { kubectl, sleep, type Kube } from '../../hack/e2e/kube.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { generations, sampleSpec, freshScenario } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, getUpgrade, patchUpgrade, waitForPhase, waitForUpgrade } from '../../hack/e2e/upgrades.ts';

const NAME = 'pause-approval';

describe('end to end: pause and approval', { timeout: 20 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-pause'));
    operator.start();
  });

  after(async () => {
    assert.equal(await operator.stop(), 0);
  });

  it('paused halts before the next action (the canary restarts) and resumes when cleared', async () => {
    const spec = sampleSpec(kube, { rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 2, requireApproval: true }], workloadTimeout: '3m' } });
    await createUpgrade(kube, NAME, spec);
    await waitForUpgrade(kube, NAME, (u) => u.status?.phase === 'Soaking' && u.status.soak?.target === 'gateways', 'soaking the gateways', 300_000);
    await patchUpgrade(kube, NAME, { spec: { paused: true } });
    const paused = await waitForUpgrade(kube, NAME, (u) => condition(u, 'Reconciling')?.reason === 'Paused', 'paused', 120_000);
    const held = await generations(kube);
    await sleep(15_000);
    const still = await getUpgrade(kube, NAME);
    assert.equal(condition(still, 'Reconciling')?.reason, 'Paused');
    assert.equal(still.status?.phase, paused.status?.phase);
    assert.deepEqual(await generations(kube), held, 'nothing restarted while paused');
    await patchUpgrade(kube, NAME, { spec: { paused: false } });
    await waitForUpgrade(kube, NAME, (u) => u.status?.waves?.[0]?.state === 'Succeeded', 'canary done after resuming', 300_000);
  });

  it('requireApproval holds the second wave until the annotation names it', async () => {
    const waiting = await waitForUpgrade(kube, NAME, (u) => condition(u, 'Reconciling')?.reason === 'AwaitingApproval', 'awaiting approval', 120_000);
    assert.equal(waiting.status?.currentWave, 'rest');
    assert.match(condition(waiting, 'Reconciling')?.message ?? '', new RegExp(`${APPROVE_ANNOTATION}=rest`));
    const held = await generations(kube);
    await kubectl(kube, ['annotate', 'istioupgrade', NAME, `${APPROVE_ANNOTATION}=canary`, '--overwrite']);
    await sleep(10_000);
    assert.deepEqual(await generations(kube), held, 'a wrong approval does not release the wave');
    assert.equal((await getUpgrade(kube, NAME)).status?.waves?.[1]?.state, 'Pending');
    await kubectl(kube, ['annotate', 'istioupgrade', NAME, `${APPROVE_ANNOTATION}=rest`, '--overwrite']);
    const done = await waitForPhase(kube, NAME, ['Succeeded', 'Failed', 'RolledBack'], 600_000);
    assert.equal(done.status?.phase, 'Succeeded');
  });
});
