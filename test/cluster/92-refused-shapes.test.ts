// Issue 8 shape 6 and issue 9 items 2 and 4: shapes the upgrade cannot carry are refused at the precheck,
// before anything changes (no Job, no tag write, no restart), each with a reason naming what is wrong:
// - a gateway that is not injected (istioctl-installed: its own proxy image, injection off) -> GatewayNotInjected;
// - a gateway pinned to the old revision -> GatewayPinned;
// - a control plane installed by Helm, in istioctl mode -> InstallerMismatch;
// - no default tag, so `istioctl install` would create one and move injection -> InstallWouldChangeInjection.
// Gateway-API-managed gateways are listed in the plan as re-rendered by istiod.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE, ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import { removeTags } from '../../hack/e2e/control-plane.ts';
import { ignoreNotFound, istioctl, kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { GATEWAY, applyObjects, revisionInstalled, setTag, tagRevision } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { freshScenario, generations } from '../../hack/e2e/scenario.ts';
import { createUpgrade, deleteUpgrade, waitForPhase, type LiveUpgrade } from '../../hack/e2e/upgrades.ts';
import { deployment } from '../../hack/e2e/workloads.ts';

describe('end to end: shapes refused at the precheck, before anything changes', { timeout: 15 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  let generationsBefore: Map<string, number>;

  const refused = async (name: string, spec: object): Promise<LiveUpgrade> => {
    // A re-install just rolled the old istiod: wait until it is Ready again, or the precheck rightly refuses that.
    await waitFor('the old istiod Ready', async () => {
      const d = await kube.apps.readNamespacedDeployment({ name: `istiod-${kube.info.versions.istioOldRevision}`, namespace: ISTIO_NAMESPACE });
      return (d.status?.availableReplicas ?? 0) >= 1 && (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1);
    }, 120_000);
    await createUpgrade(kube, name, { version: kube.info.versions.istioNew, soak: { duration: '5s' }, ...spec });
    const ended = await waitForPhase(kube, name, ['Failed', 'Succeeded', 'RolledBack'], 120_000);
    // Nothing changed: no installer Job, the tag on the old revision, no new istiod, no workload restarted.
    const jobs = await kube.batch.listNamespacedJob({ namespace: 'istio-upgrade-operator', labelSelector: `istioupgrade.dev/upgrade=${(ended.metadata as { uid: string }).uid}` });
    assert.deepEqual(jobs.items.map((j) => j.metadata?.name), [], 'no Job ran');
    assert.equal(await tagRevision(kube), kube.info.versions.istioOldRevision);
    assert.equal(await revisionInstalled(kube, kube.info.versions.istioNewRevision), false);
    assert.deepEqual(await generations(kube), generationsBefore, 'no workload restarted');
    await deleteUpgrade(kube, name);
    return ended;
  };

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-refused'));
    // A Gateway API gateway Deployment, as istiod's gateway controller renders it.
    await applyObjects(kube, [deployment('foo', 'waypoint', { labels: { 'gateway.istio.io/managed': 'istio.io-mesh-controller', 'gateway.networking.k8s.io/gateway-name': 'waypoint' } })]);
    generationsBefore = await generations(kube);
    operator.start();
  });

  after(async () => {
    await ignoreNotFound(() => kube.apps.deleteNamespacedDeployment({ name: 'waypoint', namespace: 'foo' }));
    assert.equal(await operator.stop(), 0);
  });

  it('an istioctl-installed gateway (not injected): GatewayNotInjected', async () => {
    const { istioOld, istioOldRevision } = kube.info.versions;
    await istioctl(kube, istioOld, ['install', '-y', '--set', `revision=${istioOldRevision}`, '--set', 'profile=minimal', '--set', 'components.ingressGateways[0].name=istio-ingressgateway', '--set', 'components.ingressGateways[0].enabled=true']);
    try {
      const gw = await kube.apps.readNamespacedDeployment({ name: 'istio-ingressgateway', namespace: ISTIO_NAMESPACE });
      const proxy = gw.spec?.template.spec?.containers.find((c) => c.name === 'istio-proxy');
      console.log(`istioctl gateway: image ${proxy?.image ?? '?'}, template labels ${JSON.stringify(gw.spec?.template.metadata?.labels)}`);
      const ended = await refused('gateway-not-injected', { gateways: [{ namespace: ISTIO_NAMESPACE, name: 'istio-ingressgateway' }] });
      assert.equal(ended.status?.failure?.reason, 'GatewayNotInjected');
      assert.match(ended.status.failure.message, /istio-system\/istio-ingressgateway is not injected/);
    } finally {
      for (const kind of ['deployment', 'service', 'serviceaccount', 'poddisruptionbudget', 'role', 'rolebinding', 'horizontalpodautoscaler']) {
        await kubectl(kube, ['delete', kind, '-n', ISTIO_NAMESPACE, '-l', 'operator.istio.io/component=IngressGateways', '--ignore-not-found']);
      }
    }
  });

  it('a gateway pinned to the old revision: GatewayPinned', async () => {
    const { istioOldRevision } = kube.info.versions;
    const pin = (value: string | null) => kubectl(kube, ['patch', 'deployment', GATEWAY.name, '-n', GATEWAY.namespace, '--type=merge', '-p', JSON.stringify({ spec: { template: { metadata: { labels: { [ISTIO_REV_LABEL]: value } } } } })]);
    await pin(istioOldRevision);
    generationsBefore = await generations(kube);
    try {
      const ended = await refused('gateway-pinned', { gateways: [{ ...GATEWAY }] });
      assert.equal(ended.status?.failure?.reason, 'GatewayPinned');
      assert.match(ended.status.failure.message, /istio-ingress\/istio-ingressgateway is pinned to revision 1-30-4/);
      assert.ok(ended.status.plan?.managedByIstiod?.includes('Deployment foo/waypoint'), JSON.stringify(ended.status.plan?.managedByIstiod));
    } finally {
      await pin(null);
      generationsBefore = await generations(kube);
    }
  });

  it('a control plane managed by Helm, in istioctl mode: InstallerMismatch', async () => {
    const istiod = `istiod-${kube.info.versions.istioOldRevision}`;
    await kubectl(kube, ['annotate', 'deployment', istiod, '-n', ISTIO_NAMESPACE, 'meta.helm.sh/release-name=istiod', 'meta.helm.sh/release-namespace=istio-system', '--overwrite']);
    try {
      const ended = await refused('helm-owned', {});
      assert.equal(ended.status?.failure?.reason, 'InstallerMismatch');
      assert.match(ended.status.failure.message, /Helm release "istiod"/);
      assert.match(ended.status.failure.message, /installer\.mode: external/);
    } finally {
      await kubectl(kube, ['annotate', 'deployment', istiod, '-n', ISTIO_NAMESPACE, 'meta.helm.sh/release-name-', 'meta.helm.sh/release-namespace-']);
    }
  });

  it('no default tag, and the one istioctl install would create selects namespaces: InstallWouldChangeInjection', async () => {
    const { istioOld, istioOldRevision } = kube.info.versions;
    // The mesh gets a tag "prod" and loses "default": namespaces still labelled for the default tag (and a legacy
    // istio-injection=enabled one) would be taken over by the default tag istioctl install creates.
    await setTag(kube, istioOld, istioOldRevision, 'prod');
    await removeTags(kube, ['prod']);
    await kubectl(kube, ['create', 'namespace', 'legacy-apps']).catch(() => undefined);
    await kubectl(kube, ['label', 'namespace', 'legacy-apps', 'istio-injection=enabled', 'iuo.test/shape=true', '--overwrite']);
    try {
      const created = await createUpgrade(kube, 'no-default-tag', { version: kube.info.versions.istioNew, tag: 'prod' });
      const ended = await waitForPhase(kube, 'no-default-tag', ['Failed', 'Succeeded', 'RolledBack'], 120_000);
      assert.equal(ended.status?.failure?.reason, 'InstallWouldChangeInjection', JSON.stringify(ended.status?.failure));
      assert.match(ended.status.failure.message, /at once inject namespace bar, .* and \d+ more with the new revision, outside every wave/);
      assert.match(ended.status.failure.message, /istioctl tag set default --revision 1-30-4/);
      const jobs = await kube.batch.listNamespacedJob({ namespace: 'istio-upgrade-operator', labelSelector: `istioupgrade.dev/upgrade=${created.metadata.uid}` });
      assert.equal(jobs.items.length, 0, 'no Job ran');
      assert.equal(await revisionInstalled(kube, kube.info.versions.istioNewRevision), false);
      await deleteUpgrade(kube, 'no-default-tag');
    } finally {
      await setTag(kube, istioOld, istioOldRevision, 'default');
      await removeTags(kube, ['default']);
    }
  });
});
