// Issue 4, evidence 3: the operator is SIGKILLed after the install and again in the middle of a wave; restarted
// each time, it finishes, with no workload restarted twice and no Job run twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UPGRADE_LABEL } from '../../src/api/constants.ts';
import { type Kube } from '../../hack/e2e/kube.ts';
import { SAMPLE_WORKLOADS } from '../../hack/e2e/mesh.ts';
import { OPERATOR_NAMESPACE, OperatorProcess } from '../../hack/e2e/operator.ts';
import { generations, sampleSpec, freshScenario } from '../../hack/e2e/scenario.ts';
import { createUpgrade, getUpgrade, waitForPhase, waitForUpgrade } from '../../hack/e2e/upgrades.ts';

const NAME = 'crash-resume';

describe('end to end: crash and resume', { timeout: 20 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  let before0: Map<string, number>;
  const kills: string[] = [];

  before(async () => {
    ({ kube } = await freshScenario('e2e-crash-0'));
    before0 = await generations(kube);
  });

  after(async () => {
    await operator.stop();
  });

  it('finishes after a SIGKILL right after the install and another in the middle of a wave', async () => {
    const start = (n: number) => {
      operator = new OperatorProcess(kube, { kubeconfig: kube.info.kubeconfigPath, identity: `e2e-crash-${n}` });
      operator.start();
    };
    start(1);
    // A slower wave (one namespace at a time) so the second kill lands while it is under way.
    await createUpgrade(kube, NAME, sampleSpec(kube, { rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 1 }], workloadTimeout: '3m' } }));
    const installed = await waitForUpgrade(kube, NAME, (u) => u.status?.conditions?.some((c) => c.type === 'RevisionInstalled' && c.status === 'True') ?? false, 'revision installed', 300_000);
    await operator.kill();
    kills.push(`after install (phase ${installed.status?.phase ?? '?'})`);
    // The lease of the killed replica is not released: the next one waits for it to expire (15s).
    start(2);
    const midWave = await waitForUpgrade(kube, NAME, (u) => u.status?.currentWave === 'rest' && u.status.phase === 'RollingOut' && (u.status.workloads?.upgraded ?? 0) > 4, 'the rest wave under way', 300_000);
    await operator.kill();
    kills.push(`mid-wave (${midWave.status?.upgraded ?? '?'} upgraded)`);
    start(3);
    const done = await waitForPhase(kube, NAME, ['Succeeded', 'RolledBack', 'Failed']);
    console.log(`crash and resume: killed ${kills.join(', ')}; ended ${done.status?.phase ?? '?'}`);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure));
  });

  it('restarted no workload twice', async () => {
    const after0 = await generations(kube);
    for (const key of SAMPLE_WORKLOADS) assert.equal(after0.get(key), (before0.get(key) ?? 0) + 1, key);
  });

  it('ran each installer Job once (one pod each)', async () => {
    const upgrade = await getUpgrade(kube, NAME);
    const jobs = await kube.batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE, labelSelector: `${UPGRADE_LABEL}=${upgrade.metadata.uid}` });
    assert.deepEqual(jobs.items.map((j) => j.metadata?.labels?.['istioupgrade.dev/purpose']).sort(), ['install', 'precheck', 'uninstall']);
    for (const job of jobs.items) {
      const pods = await kube.core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `job-name=${job.metadata?.name ?? ''}` });
      assert.equal(pods.items.length, 1, `${job.metadata?.name ?? ''} ran ${pods.items.length} pods`);
      assert.equal(job.status?.succeeded, 1);
    }
  });
});
