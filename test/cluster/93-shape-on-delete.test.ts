// Issue 8 shape 7: workloads that `kubectl rollout restart` cannot move. An OnDelete DaemonSet (one pod per node,
// a PodDisruptionBudget allowing one down) and an OnDelete StatefulSet get their pods evicted through the
// Eviction API one at a time; a partitioned StatefulSet and a paused Deployment are reported in the plan and
// skipped. None of them turns into a WorkloadTimeout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InjectionProbe, probeSummary, tagProbeNamespace } from '../../hack/e2e/injection-probe.ts';
import { kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { applyObjects, podRevision } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { fewestAvailable, watchPods, type PodWatch } from '../../hack/e2e/pod-watch.ts';
import { freshScenario } from '../../hack/e2e/scenario.ts';
import { createUpgrade, waitForPhase, outcomeSummary, type LiveUpgrade } from '../../hack/e2e/upgrades.ts';
import { daemonSet, deployment, statefulSet } from '../../hack/e2e/workloads.ts';

const NAME = 'on-delete';

async function generationOf(kube: Kube, kind: string, name: string): Promise<number> {
  const read = kind === 'DaemonSet' ? kube.apps.readNamespacedDaemonSet({ name, namespace: 'foo' }) : kind === 'StatefulSet' ? kube.apps.readNamespacedStatefulSet({ name, namespace: 'foo' }) : kube.apps.readNamespacedDeployment({ name, namespace: 'foo' });
  return (await read).metadata?.generation ?? 0;
}

describe('end to end: OnDelete, partitioned and paused workloads (shape 7)', { timeout: 15 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  let done: LiveUpgrade;
  let podWatch: PodWatch | undefined;
  let probe: InjectionProbe | undefined;
  const before0 = new Map<string, number>();
  const KEYS = [['DaemonSet', 'node-agent'], ['StatefulSet', 'ledger'], ['StatefulSet', 'partitioned'], ['Deployment', 'paused']] as const;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-on-delete'));
    await applyObjects(kube, [
      daemonSet('foo', 'node-agent', { onDelete: true }),
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'node-agent', namespace: 'foo' }, spec: { minAvailable: kube.info.nodeNames.length - 1, selector: { matchLabels: { app: 'node-agent' } } } },
      ...statefulSet('foo', 'ledger', { onDelete: true, replicas: 2 }),
      ...statefulSet('foo', 'partitioned', { partition: 1, replicas: 2 }),
      // Created running, paused below: a Deployment created paused never gets a ReplicaSet at all.
      deployment('foo', 'paused'),
    ]);
    const { istioOldRevision } = kube.info.versions;
    await waitFor('shape 7 pods injected by the old revision', async () => {
      const pods = (await kube.core.listNamespacedPod({ namespace: 'foo' })).items.filter((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined);
      const count = (app: string) => pods.filter((p) => p.metadata?.labels?.app === app && podRevision(p) === istioOldRevision).length;
      return count('node-agent') === kube.info.nodeNames.length && count('ledger') === 2 && count('partitioned') === 2 && count('paused') === 1;
    }, 120_000, 1000);
    await kubectl(kube, ['patch', 'deployment', 'paused', '-n', 'foo', '--type=merge', '-p', '{"spec":{"paused":true}}']);
    for (const [kind, name] of KEYS) before0.set(name, await generationOf(kube, kind, name));
    podWatch = await watchPods(kube, 'foo');
    operator.start();
  });

  after(async () => {
    await probe?.stop();
    podWatch?.stop();
    assert.equal(await operator.stop(), 0);
  });

  it('ends Succeeded without a WorkloadTimeout; new pods are injected by the right revision throughout', async () => {
    probe = new InjectionProbe(kube, [tagProbeNamespace()]);
    await probe.start();
    await createUpgrade(kube, NAME, {
      version: kube.info.versions.istioNew,
      rollout: { waves: [{ name: 'canary', namespaces: ['foo'] }, { name: 'rest', maxConcurrentNamespaces: 3 }], workloadTimeout: '2m' },
      soak: { duration: '5s' },
      // The partitioned and paused workloads keep the old revision on purpose: nothing to uninstall here.
      uninstall: { enabled: false },
    });
    done = await waitForPhase(kube, NAME, ['Succeeded', 'Failed', 'RolledBack'], 10 * 60_000);
    console.log(`shape 7 outcome: ${outcomeSummary(done)}`);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure));
    const report = await probe.stop();
    probe = undefined;
    console.log(`shape 7 probe: ${probeSummary(report)}`);
    assert.deepEqual([report.rejected, report.notInjected, report.wrongRevision], [[], [], []]);
    assert.ok((report.revisions[kube.info.versions.istioNewRevision] ?? 0) > 0, 'probed after the switch');
  });

  it('evicted each OnDelete pod once, one at a time, and every one came back on the new revision', async () => {
    const { istioNewRevision } = kube.info.versions;
    const pods = (await kube.core.listNamespacedPod({ namespace: 'foo' })).items.filter((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined);
    for (const app of ['node-agent', 'ledger']) {
      const mine = pods.filter((p) => p.metadata?.labels?.app === app);
      assert.ok(mine.length >= 2, app);
      for (const pod of mine) assert.equal(podRevision(pod), istioNewRevision, pod.metadata?.name);
    }
    const log = operator.log().split('\n').filter((l) => l.includes('"action":"evictPod"'));
    const evicted = log.map((l) => (JSON.parse(l) as { target: string; time: string; outcome: string })).filter((e) => e.outcome === 'done');
    const ofApp = (app: string) => evicted.filter((e) => e.target.startsWith(`evict pod foo/${app}-`));
    console.log(`evictions: ${evicted.map((e) => `${e.time.slice(11, 19)} ${e.target}`).join('; ')}`);
    assert.equal(ofApp('node-agent').length, kube.info.nodeNames.length, 'each DaemonSet pod evicted once');
    assert.equal(ofApp('ledger').length, 2, 'each StatefulSet pod evicted once');
    // One at a time, from the order of the pod changes the API server sent (not from timestamps): never more
    // than one pod of each workload unavailable at once.
    const watched = podWatch?.changes ?? [];
    assert.ok(watched.length > (podWatch?.initial ?? 0), 'the pod watch saw the rollout');
    assert.equal(fewestAvailable(watched, podWatch?.initial ?? 0, 'node-agent'), kube.info.nodeNames.length - 1, 'node-agent: fewest available pods');
    assert.equal(fewestAvailable(watched, podWatch?.initial ?? 0, 'ledger'), 1, 'ledger: fewest available pods');
    assert.equal(await generationOf(kube, 'DaemonSet', 'node-agent'), (before0.get('node-agent') ?? 0) + 1);
    assert.equal(await generationOf(kube, 'StatefulSet', 'ledger'), (before0.get('ledger') ?? 0) + 1);
  });

  it('reported the partitioned StatefulSet and the paused Deployment, and never touched them', async () => {
    const skipped = (done.status?.plan?.skipped ?? []).map((s) => `${s.name} ${s.reason}`);
    assert.ok(skipped.includes('foo/partitioned PartitionedStatefulSet'), skipped.join('; '));
    assert.ok(skipped.includes('foo/paused PausedDeployment'), skipped.join('; '));
    assert.equal(await generationOf(kube, 'StatefulSet', 'partitioned'), before0.get('partitioned'));
    assert.equal(await generationOf(kube, 'Deployment', 'paused'), before0.get('paused'));
  });
});
