// Issue 4, evidence 1 and 8: the happy path (canary bar, then the rest) on the hermetic cluster, with a probe
// creating a pod every second that must always be admitted and injected.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE, ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { InjectionProbe, type ProbeReport } from '../../hack/e2e/injection-probe.ts';
import { exists, kubectl, type Kube } from '../../hack/e2e/kube.ts';
import { meshPods, podRevision, proxyImage, SAMPLE_WORKLOADS } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { generations, sampleSpec, freshScenario } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, getUpgrade, type LiveUpgrade } from '../../hack/e2e/upgrades.ts';

const NAME = 'happy-path';

describe('end to end: happy path', { timeout: 30 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  let probe: InjectionProbe;
  let probeReport: ProbeReport;
  let before0: Map<string, number>;
  let jobPodUid: string | undefined;
  let done: LiveUpgrade;
  let wallMs = 0;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-happy'));
    before0 = await generations(kube);
    jobPodUid = (await kube.core.listNamespacedPod({ namespace: 'foo', labelSelector: 'job-name=migrate' })).items[0]?.metadata?.uid;
    operator.start();
    probe = new InjectionProbe(kube);
    await probe.start();
  });

  after(async () => {
    await probe.stop();
    const code = await operator.stop();
    assert.equal(code, 0, 'the operator drains and exits 0 on SIGTERM');
  });

  it('ends Succeeded and `kubectl wait --for=condition=Ready` returns', async () => {
    const started = Date.now();
    await createUpgrade(kube, NAME, sampleSpec(kube));
    await kubectl(kube, ['wait', '--for=condition=Ready', `istioupgrade/${NAME}`, '--timeout=20m']);
    wallMs = Date.now() - started;
    probeReport = await probe.stop();
    done = await getUpgrade(kube, NAME);
    assert.equal(done.status?.phase, 'Succeeded');
    assert.equal(condition(done, 'Stalled')?.status, 'False');
    assert.equal(done.status?.upgraded, `${SAMPLE_WORKLOADS.length}/${SAMPLE_WORKLOADS.length}`);
    const soaks = 3 * 10;
    console.log(`happy path: wall ${Math.round(wallMs / 1000)}s; unavoidable waits: soaks ${soaks}s + grace 5s; ` +
      `status ${done.status?.startedAt ?? '?'} -> ${done.status?.completedAt ?? '?'}`);
  });

  it('moves istio-revision-tag-default to the new revision and its istiod Service', async () => {
    const { istioNewRevision: rev } = kube.info.versions;
    const tag = await kube.admission.readMutatingWebhookConfiguration({ name: 'istio-revision-tag-default' });
    assert.equal(tag.metadata?.labels?.[ISTIO_REV_LABEL], rev);
    assert.equal(tag.metadata?.labels?.['istio.io/tag'], 'default');
    for (const webhook of tag.webhooks ?? []) assert.equal(webhook.clientConfig.service?.name, `istiod-${rev}`, webhook.name);
  });

  it('removes the old revision: istiod, Service and injector webhook', async () => {
    const { istioOldRevision: old } = kube.info.versions;
    assert.equal(await exists(() => kube.apps.readNamespacedDeployment({ name: `istiod-${old}`, namespace: ISTIO_NAMESPACE })), false);
    assert.equal(await exists(() => kube.core.readNamespacedService({ name: `istiod-${old}`, namespace: ISTIO_NAMESPACE })), false);
    assert.equal(await exists(() => kube.admission.readMutatingWebhookConfiguration({ name: `istio-sidecar-injector-${old}` })), false);
  });

  it('runs every workload pod on the new proxy image and revision, injected by the real istiod', async () => {
    const { istioNew, istioNewRevision: rev } = kube.info.versions;
    const pods = await meshPods(kube);
    assert.ok(pods.length >= SAMPLE_WORKLOADS.length);
    for (const pod of pods) {
      assert.equal(podRevision(pod), rev, pod.metadata?.name);
      assert.match(proxyImage(pod) ?? '', new RegExp(`proxyv2:${istioNew.replaceAll('.', '\\.')}$`), pod.metadata?.name);
    }
  });

  it('restarted each workload exactly once', async () => {
    const after0 = await generations(kube);
    for (const key of SAMPLE_WORKLOADS) assert.equal(after0.get(key), (before0.get(key) ?? 0) + 1, `${key}: generation ${before0.get(key) ?? '?'} -> ${after0.get(key) ?? '?'}`);
  });

  it("left the Job's pod alone and reported it", async () => {
    const now = (await kube.core.listNamespacedPod({ namespace: 'foo', labelSelector: 'job-name=migrate' })).items[0];
    assert.equal(now?.metadata?.uid, jobPodUid, 'same pod, never restarted');
    assert.ok(done.status?.skippedWorkloads?.some((s) => s.startsWith('Pod/foo/migrate-') && s.includes('Job migrate')), JSON.stringify(done.status?.skippedWorkloads));
  });

  it('never failed to admit or inject a pod during the upgrade (injection probe)', () => {
    console.log(`injection probe: ${probeReport.created} pods, revisions ${JSON.stringify(probeReport.revisions)}, rejected ${probeReport.rejected.length}, not injected ${probeReport.notInjected.length}`);
    assert.deepEqual(probeReport.rejected, []);
    assert.deepEqual(probeReport.notInjected, []);
    assert.ok(probeReport.created >= 20, `only ${probeReport.created} probe pods`);
    const { istioOldRevision, istioNewRevision } = kube.info.versions;
    assert.ok((probeReport.revisions[istioOldRevision] ?? 0) > 0 && (probeReport.revisions[istioNewRevision] ?? 0) > 0, 'probed before and after the tag switch');
  });

  it('tells the story in Events (kubectl describe)', async () => {
    const described = await kubectl(kube, ['describe', 'istioupgrade', NAME]);
    for (const reason of ['Prechecking', 'Installing', 'SwitchingTag', 'UpgradingGateways', 'WaveStarted', 'SoakPassed', 'Uninstalling', 'Succeeded']) {
      assert.match(described, new RegExp(`Normal\\s+${reason}\\s`), `event ${reason}`);
    }
  });
});
