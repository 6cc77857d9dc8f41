// Issue 10: installer.mode helm on a Helm-installed mesh (releases istio-base, istiod-<old> with revisionTags
// [default], gateway release istio-ingress), with the real helm in Jobs run by the node agent against the chart
// repository served in the netns. First to Succeeded, with the operator SIGKILLed while the istiod install Job runs;
// then a failed canary soak, rolled back with helm.
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE, ISTIO_REV_LABEL, UPGRADE_LABEL } from '../../src/api/constants.ts';
import type { IstioUpgradeSpecInput } from '../../src/api/schema.ts';
import { BASE_RELEASE, GATEWAY_RELEASE, HELM_SAMPLE_WORKLOADS, describeReleases, helm, helmList, istiodRelease, removeHelmMesh, resetHelmMesh, type HelmRelease } from '../../hack/e2e/helm-mesh.ts';
import { InjectionProbe, probeSummary, type ProbeReport } from '../../hack/e2e/injection-probe.ts';
import { exists, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { meshPods, podRevision, proxyImage, resetMesh } from '../../hack/e2e/mesh.ts';
import { OPERATOR_NAMESPACE, OperatorProcess } from '../../hack/e2e/operator.ts';
import { freshScenario, generations, resetExporter, sampleSpec, setErrorRatio } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, deleteAllUpgrades, getUpgrade, waitForPhase, waitForUpgrade } from '../../hack/e2e/upgrades.ts';

function helmSpec(kube: Kube, overrides: Partial<IstioUpgradeSpecInput> = {}): IstioUpgradeSpecInput {
  return sampleSpec(kube, {
    gateways: [],
    installer: {
      mode: 'helm',
      helm: { repository: kube.info.chartRepoUrl, image: `docker.io/alpine/helm:${kube.info.versions.helm.replace(/^v/, '')}`, gateways: [{ ...GATEWAY_RELEASE }] },
    },
    ...overrides,
  });
}

function freshHelmScenario(identity: string): Promise<{ kube: Kube; operator: OperatorProcess }> {
  return freshScenario(identity, resetHelmMesh);
}

function release(list: readonly HelmRelease[], name: string): HelmRelease | undefined {
  return list.find((r) => r.name === name);
}

async function jobPurposes(kube: Kube, name: string): Promise<string[]> {
  const upgrade = await getUpgrade(kube, name);
  const jobs = await kube.batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE, labelSelector: `${UPGRADE_LABEL}=${upgrade.metadata.uid}` });
  for (const job of jobs.items) {
    const pods = await kube.core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `job-name=${job.metadata?.name ?? ''}` });
    assert.equal(pods.items.length, 1, `${job.metadata?.name ?? ''} ran ${pods.items.length} pods`);
    assert.equal(job.status?.succeeded, 1, `${job.metadata?.name ?? ''} succeeded`);
  }
  return jobs.items.map((j) => j.metadata?.labels?.['istioupgrade.dev/purpose'] ?? '?').sort();
}

/** Rewrites the status of a release's latest Helm record (Secret: base64 of gzipped JSON), as an interrupted helm leaves it. */
async function setReleaseStatus(kube: Kube, namespace: string, release: string, status: string): Promise<void> {
  const secrets = await kube.core.listNamespacedSecret({ namespace, labelSelector: `owner=helm,name=${release}` });
  const latest = secrets.items.sort((a, b) => Number(b.metadata?.labels?.version ?? 0) - Number(a.metadata?.labels?.version ?? 0))[0];
  const name = latest?.metadata?.name;
  if (latest === undefined || name === undefined) throw new Error(`no Helm record of ${namespace}/${release}`);
  const record = JSON.parse(gunzipSync(Buffer.from(Buffer.from(latest.data?.release ?? '', 'base64').toString(), 'base64')).toString()) as { info: { status: string } };
  record.info.status = status;
  const encoded = Buffer.from(gzipSync(Buffer.from(JSON.stringify(record)))).toString('base64');
  await kube.core.patchNamespacedSecret({ name, namespace, body: { metadata: { labels: { status } }, data: { release: Buffer.from(encoded).toString('base64') } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

describe('end to end: helm mode refuses a pending release before changing anything', { timeout: 15 * 60_000 }, () => {
  const NAME = 'helm-pending';
  let kube: Kube;
  let operator: OperatorProcess;

  before(async () => {
    ({ kube, operator } = await freshHelmScenario('e2e-helm-pending'));
    await setReleaseStatus(kube, GATEWAY_RELEASE.namespace, GATEWAY_RELEASE.release, 'pending-upgrade');
    operator.start();
  });

  after(async () => {
    await operator.stop();
    await deleteAllUpgrades(kube);
  });

  it('ends Failed with PrecheckFailed from helm itself (another operation in progress), with no install', async () => {
    const { istioNewRevision } = kube.info.versions;
    const releasesBefore = await helmList(kube);
    await createUpgrade(kube, NAME, helmSpec(kube));
    const ended = await waitForPhase(kube, NAME, ['Failed', 'RolledBack', 'Succeeded'], 300_000);
    console.log(`helm pending: ${ended.status?.failure?.reason ?? '?'}: ${ended.status?.failure?.message ?? ''}`);
    assert.equal(ended.status?.phase, 'Failed');
    assert.equal(ended.status?.failure?.reason, 'PrecheckFailed');
    assert.match(ended.status?.failure?.message ?? '', /another operation \(install\/upgrade\/rollback\) is in progress/);
    assert.equal(release(await helmList(kube), istiodRelease(istioNewRevision)), undefined, 'no new istiod release');
    assert.deepEqual(await helmList(kube), releasesBefore, 'no release changed');
    const upgrade = await getUpgrade(kube, NAME);
    const jobs = await kube.batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE, labelSelector: `${UPGRADE_LABEL}=${upgrade.metadata.uid}` });
    assert.deepEqual(jobs.items.map((j) => j.metadata?.labels?.['istioupgrade.dev/purpose']).sort(), ['precheck', 'precheck-gw0', 'precheck-old'], 'only the --dry-run Jobs ran');
  });
});

describe('end to end: helm mode, Succeeded through a crash during the istiod install', { timeout: 30 * 60_000 }, () => {
  const NAME = 'helm-upgrade';
  let kube: Kube;
  let operator: OperatorProcess;
  let probe: InjectionProbe;
  let probeReport: ProbeReport;
  let before0: Map<string, number>;
  let releasesBefore: HelmRelease[];

  before(async () => {
    ({ kube, operator } = await freshHelmScenario('e2e-helm-0'));
    before0 = await generations(kube, HELM_SAMPLE_WORKLOADS);
    releasesBefore = await helmList(kube);
    console.log(`helm list -A before: ${describeReleases(releasesBefore)}`);
    probe = new InjectionProbe(kube);
    await probe.start();
  });

  after(async () => {
    await probe.stop();
    await operator.stop();
  });

  it('starts from the Helm-installed mesh: istiod-<old> renders tag default, no failed or pending release', () => {
    const { istioOld, istioOldRevision } = kube.info.versions;
    assert.equal(release(releasesBefore, istiodRelease(istioOldRevision))?.chart, `istiod-${istioOld}`);
    assert.equal(release(releasesBefore, GATEWAY_RELEASE.release)?.chart, `gateway-${istioOld}`);
    for (const r of releasesBefore) assert.equal(r.status, 'deployed', r.name);
  });

  it('ends Succeeded after a SIGKILL while the istiod install Job runs, resumed by a new operator', async () => {
    const { istioNewRevision } = kube.info.versions;
    operator.start();
    await createUpgrade(kube, NAME, helmSpec(kube));
    const upgrade = await getUpgrade(kube, NAME);
    // The install Job of the new istiod release exists and has not finished: kill the operator now.
    const installJob = await waitFor('the istiod install Job running', async () => {
      const jobs = await kube.batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE, labelSelector: `${UPGRADE_LABEL}=${upgrade.metadata.uid},istioupgrade.dev/purpose=install` });
      const job = jobs.items[0];
      return job !== undefined && (job.status?.succeeded ?? 0) === 0 ? job : undefined;
    }, 300_000, 100);
    await operator.kill();
    console.log(`helm crash: SIGKILL while Job ${installJob.metadata?.name ?? '?'} ran (active ${installJob.status?.active ?? 0})`);
    operator = new OperatorProcess(kube, { kubeconfig: kube.info.kubeconfigPath, identity: 'e2e-helm-1' });
    operator.start();
    const done = await waitForPhase(kube, NAME, ['Succeeded', 'RolledBack', 'Failed'], 900_000);
    probeReport = await probe.stop();
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure));
    assert.equal(done.status?.upgraded, `${HELM_SAMPLE_WORKLOADS.length}/${HELM_SAMPLE_WORKLOADS.length}`);
    assert.equal(done.status?.tagReverts, undefined, 'the tag was never taken for reverted (the operator never wrote tag objects of its own)');
    const history = JSON.parse(await helm(kube, ['history', istiodRelease(istioNewRevision), '--namespace', ISTIO_NAMESPACE, '--output', 'json'])) as { revision: number; status: string; description: string }[];
    console.log(`helm history ${istiodRelease(istioNewRevision)}: ${history.map((h) => `${h.revision} ${h.status} ${h.description}`).join('; ')}`);
    assert.equal(history.filter((h) => h.description.startsWith('Install')).length, 1, 'installed once: no duplicate release');
  });

  it('leaves Helm right: new istiod release deployed, old gone, gateway at the new chart, nothing failed or pending', async () => {
    const { istioNew, istioOldRevision, istioNewRevision } = kube.info.versions;
    const after0 = await helmList(kube);
    console.log(`helm list -A after: ${describeReleases(after0)}`);
    assert.equal(release(after0, istiodRelease(istioNewRevision))?.chart, `istiod-${istioNew}`);
    assert.equal(release(after0, istiodRelease(istioOldRevision)), undefined);
    assert.equal(release(after0, GATEWAY_RELEASE.release)?.chart, `gateway-${istioNew}`);
    assert.equal(release(after0, BASE_RELEASE)?.chart, `base-${istioNew}`);
    for (const r of after0) assert.equal(r.status, 'deployed', r.name);
    assert.equal(await exists(() => kube.apps.readNamespacedDeployment({ name: `istiod-${istioOldRevision}`, namespace: ISTIO_NAMESPACE })), false);
    // The plan told what `helm uninstall` of the old release would delete: its objects, not the tag it gave up.
    const removals = (await getUpgrade(kube, NAME)).status?.plan?.removals ?? [];
    console.log(`plan removals (helm uninstall ${istiodRelease(istioOldRevision)}): ${removals.join(', ')}`);
    assert.ok(removals.includes(`Deployment ${ISTIO_NAMESPACE}/istiod-${istioOldRevision}`), removals.join(', '));
    assert.ok(!removals.some((r) => r.includes('revision-tag')), removals.join(', '));
  });

  it('the tag webhook is owned by the new release and sends pods to the new revision', async () => {
    const { istioNewRevision: rev } = kube.info.versions;
    const tag = await kube.admission.readMutatingWebhookConfiguration({ name: 'istio-revision-tag-default' });
    assert.equal(tag.metadata?.annotations?.['meta.helm.sh/release-name'], istiodRelease(rev));
    assert.equal(tag.metadata?.annotations?.['helm.sh/resource-policy'], undefined);
    assert.equal(tag.metadata?.labels?.[ISTIO_REV_LABEL], rev);
    const managers = (tag.metadata?.managedFields ?? []).map((f) => f.manager);
    assert.ok(!managers.includes('istio-upgrade-operator') || (tag.metadata?.managedFields ?? []).every((f) => f.manager !== 'istio-upgrade-operator' || f.operation !== 'Apply'), `managers: ${managers.join(', ')}`);
    for (const webhook of tag.webhooks ?? []) assert.equal(webhook.clientConfig.service?.name, `istiod-${rev}`, webhook.name);
  });

  it('every workload runs the new proxy, each rolled exactly once (generation + 1)', async () => {
    const { istioNew, istioNewRevision: rev } = kube.info.versions;
    for (const pod of await meshPods(kube)) {
      assert.equal(podRevision(pod), rev, pod.metadata?.name);
      assert.match(proxyImage(pod) ?? '', new RegExp(`proxyv2:${istioNew.replaceAll('.', '\\.')}$`), pod.metadata?.name);
    }
    const after0 = await generations(kube, HELM_SAMPLE_WORKLOADS);
    for (const key of HELM_SAMPLE_WORKLOADS) assert.equal(after0.get(key), (before0.get(key) ?? 0) + 1, key);
  });

  it('the injection probe saw no pod rejected or left uninjected', () => {
    console.log(`helm injection probe: ${probeSummary(probeReport)}`);
    assert.ok(probeReport.created > 10, `only ${probeReport.created} probe pods`);
    assert.deepEqual(probeReport.rejected, []);
    assert.deepEqual(probeReport.notInjected, []);
    assert.deepEqual(probeReport.wrongRevision, []);
  });

  it('ran each helm Job once, one pod each, in the documented set', async () => {
    assert.deepEqual(await jobPurposes(kube, NAME), ['gw0', 'install', 'install-base', 'precheck', 'precheck-gw0', 'precheck-old', 'tag-new', 'tag-old', 'uninstall']);
  });
});

describe('end to end: helm mode, a failed canary soak rolls back with helm', { timeout: 30 * 60_000 }, () => {
  const NAME = 'helm-rollback';
  let kube: Kube;
  let operator: OperatorProcess;

  before(async () => {
    ({ kube, operator } = await freshHelmScenario('e2e-helm-rollback'));
    operator.start();
  });

  after(async () => {
    await resetExporter(kube);
    await operator.stop();
    // Leave the cluster in the shape every other scenario starts from.
    await deleteAllUpgrades(kube);
    await removeHelmMesh(kube);
    await resetMesh(kube);
  });

  it('ends RolledBack: the tag back in the old release, the gateway release rolled back, the new release removed', async () => {
    const { istioOld, istioOldRevision, istioNewRevision } = kube.info.versions;
    await createUpgrade(kube, NAME, helmSpec(kube, { soak: { ...sampleSpec(kube).soak, duration: '60s' }, rollback: { removeNewRevision: true } }));
    await waitForUpgrade(kube, NAME, (u) => u.status?.phase === 'Soaking' && u.status.soak?.target === 'wave:canary', 'soaking the canary', 600_000);
    await setErrorRatio(kube, 'bar', 0.5);
    const ended = await waitForPhase(kube, NAME, ['RolledBack', 'Failed', 'Succeeded'], 600_000);
    assert.equal(ended.status?.phase, 'RolledBack', JSON.stringify(ended.status?.failure));
    assert.equal(condition(ended, 'Stalled')?.reason, 'SoakFailed');

    const tag = await kube.admission.readMutatingWebhookConfiguration({ name: 'istio-revision-tag-default' });
    assert.equal(tag.metadata?.annotations?.['meta.helm.sh/release-name'], istiodRelease(istioOldRevision));
    assert.equal(tag.metadata?.annotations?.['helm.sh/resource-policy'], undefined);
    assert.equal(tag.metadata?.labels?.[ISTIO_REV_LABEL], istioOldRevision);

    const releases = await helmList(kube);
    console.log(`helm list -A after rollback: ${describeReleases(releases)}`);
    assert.equal(release(releases, istiodRelease(istioNewRevision)), undefined, 'rollback.removeNewRevision: the new release is uninstalled');
    assert.equal(release(releases, GATEWAY_RELEASE.release)?.chart, `gateway-${istioOld}`);
    for (const r of releases) assert.equal(r.status, 'deployed', r.name);

    for (const pod of (await meshPods(kube)).filter((p) => p.metadata?.namespace === 'bar' || p.metadata?.namespace === GATEWAY_RELEASE.namespace)) {
      assert.equal(podRevision(pod), istioOldRevision, pod.metadata?.name);
      assert.match(proxyImage(pod) ?? '', new RegExp(`proxyv2:${istioOld.replaceAll('.', '\\.')}$`), pod.metadata?.name);
    }
    const purposes = await jobPurposes(kube, NAME);
    for (const p of ['rollback-tag-old', 'rollback-tag-new', 'rollback-gw0', 'uninstall-new']) assert.ok(purposes.includes(p), `${p} in ${purposes.join(', ')}`);
  });
});
