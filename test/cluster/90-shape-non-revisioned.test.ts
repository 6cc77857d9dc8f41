// Issue 8, shapes 1 and 2 (and issue 9 item 2): a non-revisioned control plane (Deployment istiod, webhook
// istio-sidecar-injector, no tag), with namespaces on the legacy istio-injection=enabled label and on
// istio.io/rev=default, and a pod template opted in with sidecar.istio.io/inject=true. The upgrade first gives
// the mesh an explicit default tag on that control plane, installs the new revision without changing
// injection, moves every injected workload and removes the old control plane. Probes run in a legacy and a
// tag namespace throughout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE, ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { NON_REVISIONED_INJECTOR, deleteNamespaces, installNonRevisioned, removeTags, shapeNamespaces } from '../../hack/e2e/control-plane.ts';
import { InjectionProbe, type ProbeReport } from '../../hack/e2e/injection-probe.ts';
import { connect, exists, kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { MESH_NAMESPACES, applyObjects, podRevision, revisionInstalled, tagRevision, uninstallRevision } from '../../hack/e2e/mesh.ts';
import { OperatorProcess, installOperatorManifests, runPlanCommand } from '../../hack/e2e/operator.ts';
import { condition, createUpgrade, deleteAllUpgrades, getUpgrade, outcomeSummary, type LiveUpgrade } from '../../hack/e2e/upgrades.ts';
import { deployment, shapeNamespace, statefulSet } from '../../hack/e2e/workloads.ts';

const NAME = 'shape-non-revisioned';
const NAMESPACES = ['legacy', 'tagged', 'optin'];
/** Injected workloads the upgrade must move, and one it must leave alone. */
const MOVED = ['Deployment/legacy/web', 'StatefulSet/legacy/db', 'Deployment/tagged/api', 'Deployment/optin/opted-in'];
const UNTOUCHED = 'Deployment/optin/plain';

async function generation(kube: Kube, key: string): Promise<number> {
  const [kind, namespace = '', name = ''] = key.split('/');
  const object = kind === 'StatefulSet' ? await kube.apps.readNamespacedStatefulSet({ name, namespace }) : await kube.apps.readNamespacedDeployment({ name, namespace });
  return object.metadata?.generation ?? 0;
}

async function livePods(kube: Kube, namespace: string): Promise<V1Pod[]> {
  return (await kube.core.listNamespacedPod({ namespace })).items.filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.phase === 'Running');
}

describe('end to end: a non-revisioned control plane with legacy and tag labels (shapes 1 and 2)', { timeout: 20 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  let probe: InjectionProbe;
  let probeReport: ProbeReport;
  let done: LiveUpgrade;
  const before0 = new Map<string, number>();
  const spec = () => ({
    version: kube.info.versions.istioNew,
    rollout: { waves: [{ name: 'canary', namespaces: ['tagged'] }, { name: 'rest', maxConcurrentNamespaces: 2 }], workloadTimeout: '3m' },
    soak: { duration: '5s' },
    uninstall: { gracePeriod: '5s' },
  });

  before(async () => {
    kube = await connect();
    const { istioOld, istioOldRevision, istioNew, istioNewRevision } = kube.info.versions;
    await deleteAllUpgrades(kube);
    await installOperatorManifests(kube);
    await deleteNamespaces(kube, [...MESH_NAMESPACES, ...NAMESPACES, ...(await shapeNamespaces(kube)), 'probe']);
    await removeTags(kube, []);
    if (await revisionInstalled(kube, istioNewRevision)) await uninstallRevision(kube, istioNew, istioNewRevision);
    if (await revisionInstalled(kube, istioOldRevision)) await uninstallRevision(kube, istioOld, istioOldRevision);
    await installNonRevisioned(kube, istioOld);
    await applyObjects(kube, [
      shapeNamespace('legacy', { 'istio-injection': 'enabled' }),
      shapeNamespace('tagged', { [ISTIO_REV_LABEL]: 'default' }),
      shapeNamespace('optin'),
      deployment('legacy', 'web', { replicas: 2 }),
      ...statefulSet('legacy', 'db'),
      deployment('tagged', 'api'),
      deployment('optin', 'opted-in', { templateLabels: { 'sidecar.istio.io/inject': 'true' } }),
      deployment('optin', 'plain'),
    ]);
    await waitFor('the workloads injected by the non-revisioned istiod', async () => {
      const pods = [...(await livePods(kube, 'legacy')), ...(await livePods(kube, 'tagged')), ...(await livePods(kube, 'optin'))];
      const injected = pods.filter((p) => podRevision(p) === 'default').length;
      return pods.length === 6 && injected === 5;
    }, 180_000, 1000);
    for (const key of [...MOVED, UNTOUCHED]) before0.set(key, await generation(kube, key));
    assert.equal(await tagRevision(kube), undefined, 'no tag: the non-revisioned injector serves the mesh');
    operator = new OperatorProcess(kube, { kubeconfig: kube.info.kubeconfigPath, identity: 'e2e-non-revisioned' });
    probe = new InjectionProbe(kube, [
      { name: 'probe-legacy', labels: { 'istio-injection': 'enabled', 'iuo.test/shape': 'true' } },
      { name: 'probe-tagged', labels: { [ISTIO_REV_LABEL]: 'default', 'iuo.test/shape': 'true' } },
    ]);
  });

  after(async () => {
    await probe.stop();
    assert.equal(await operator.stop(), 0);
  });

  it('`plan` shows what the upgrade will do before anything is created', async () => {
    const result = await runPlanCommand(kube, { apiVersion: 'istioupgrade.dev/v1alpha1', kind: 'IstioUpgrade', metadata: { name: NAME }, spec: spec() });
    console.log(`plan for shape 1:\n${result.stdout}`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /tag "default" default \(1\.30\.4\) -> 1-31-0 \(1\.31\.0\)/);
    assert.match(result.stdout, /operator first creates tag "default" on that control plane/);
    assert.match(result.stdout, /1\. canary \(tag default\): 1 workload\(s\) in 1 namespace\(s\): tagged/);
    assert.match(result.stdout, /2\. rest \(tag default\): 3 workload\(s\) in 2 namespace\(s\): legacy, optin/);
    assert.match(result.stdout, /Deployment optin\/plain {2}NotInjected/);
    assert.match(result.stdout, /Removed at the end[^]*Deployment istio-system\/istiod/, 'the old control plane is listed for removal');
    const neverRestarted = /Never restarted[^\n]*\n((?: {2}[^\n]*\n)*)/.exec(result.stdout)?.[1] ?? '';
    assert.match(neverRestarted, /optin\/plain/);
    assert.doesNotMatch(neverRestarted, /istio-system\/istiod/, 'istiod is the control plane, not a skipped workload');
    assert.equal(await exists(() => kube.custom.getClusterCustomObject({ group: 'istioupgrade.dev', version: 'v1alpha1', plural: 'istioupgrades', name: NAME })), false, 'plan creates nothing');
  });

  it('ends Succeeded on the revisioned new control plane', async () => {
    operator.start();
    await probe.start();
    await createUpgrade(kube, NAME, spec());
    await kubectl(kube, ['wait', '--for=condition=Ready', `istioupgrade/${NAME}`, '--timeout=10m']);
    probeReport = await probe.stop();
    done = await getUpgrade(kube, NAME);
    console.log(`shape 1 outcome: ${outcomeSummary(done)}`);
    assert.equal(done.status?.phase, 'Succeeded');
    assert.equal(done.status?.fromRevision, 'default', 'the non-revisioned control plane is revision "default"');
    assert.equal(done.status?.upgraded, '4/4');
  });

  it('moved every injected workload exactly once and left the uninjected one alone', async () => {
    const { istioNewRevision } = kube.info.versions;
    for (const key of MOVED) assert.equal(await generation(kube, key), (before0.get(key) ?? 0) + 1, key);
    assert.equal(await generation(kube, UNTOUCHED), before0.get(UNTOUCHED), UNTOUCHED);
    for (const ns of NAMESPACES) {
      for (const pod of await livePods(kube, ns)) {
        if (pod.metadata?.name?.startsWith('plain-') === true) assert.equal(podRevision(pod), undefined);
        else assert.equal(podRevision(pod), istioNewRevision, pod.metadata?.name);
      }
    }
  });

  it('removed the old control plane and left the default tag on the new revision', async () => {
    const { istioNewRevision } = kube.info.versions;
    assert.equal(await exists(() => kube.apps.readNamespacedDeployment({ name: 'istiod', namespace: ISTIO_NAMESPACE })), false);
    assert.equal(await exists(() => kube.admission.readMutatingWebhookConfiguration({ name: NON_REVISIONED_INJECTOR })), false);
    assert.equal(await tagRevision(kube), istioNewRevision);
    assert.equal(condition(done, 'OldRevisionRemoved')?.reason, 'Removed');
  });

  it('created the default tag on revision "default" before installing, so no pod met the new revision before the switch', async () => {
    const described = await kubectl(kube, ['describe', 'istioupgrade', NAME]);
    assert.match(described, /Normal\s+PreparingTag\s/);
    const tag = await kube.admission.readMutatingWebhookConfiguration({ name: 'istio-revision-tag-default' });
    const jobs = await kube.batch.listNamespacedJob({ namespace: 'istio-upgrade-operator', labelSelector: `istioupgrade.dev/upgrade=${done.metadata.uid},istioupgrade.dev/purpose=install` });
    const installJob = jobs.items[0];
    assert.ok(installJob !== undefined);
    const tagCreated = new Date(String(tag.metadata?.creationTimestamp)).getTime();
    const installCreated = new Date(String(installJob.metadata?.creationTimestamp)).getTime();
    assert.ok(tagCreated <= installCreated, `tag created ${String(tag.metadata?.creationTimestamp)}, install Job ${String(installJob.metadata?.creationTimestamp)}`);
    console.log(`shape 1 probe: ${probeReport.created} pods, revisions ${JSON.stringify(probeReport.revisions)}, rejected ${probeReport.rejected.length}, not injected ${probeReport.notInjected.length}, wrong revision ${probeReport.wrongRevision.length}`);
    assert.deepEqual(probeReport.rejected, []);
    assert.deepEqual(probeReport.notInjected, []);
    assert.deepEqual(probeReport.wrongRevision, []);
    assert.ok((probeReport.revisions.default ?? 0) > 0 && (probeReport.revisions[kube.info.versions.istioNewRevision] ?? 0) > 0, 'probed before and after');
  });
});
