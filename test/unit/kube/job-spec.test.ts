import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IstioUpgradeSpecSchema } from '../../../src/api/schema.ts';
import { installerJob } from '../../../src/core/installer-jobs.ts';
import { DEFAULT_INSTALLER_IMAGES } from '../../../src/core/installer-images.ts';
import { helmContext, installIstiodJob } from '../../../src/core/helm-jobs.ts';
import { makeUpgrade, sampleMesh } from '../../support/fixtures.ts';
import { installerBinding, installerJobSpec, overlayConfigMap } from '../../../src/kube/installer/job-spec.ts';

const owner = { name: 'to-1-31-0', uid: '0f8fad5b-d9cb-469f-a165-70867728950e' };
const settings = { namespace: 'istio-upgrade-operator', serviceAccount: 'istio-upgrade-installer', activeDeadlineSeconds: 1800 };

describe('installer Job', () => {
  it('runs istioctl once, as the installer ServiceAccount, owned by the upgrade, non-root', () => {
    const spec = IstioUpgradeSpecSchema.parse({ version: '1.31.0' });
    const job = installerJobSpec(installerJob(owner, spec, { purpose: 'install', revision: '1-31-0', istioNamespace: 'istio-system', allowedImages: DEFAULT_INSTALLER_IMAGES }), owner, settings);
    assert.equal(job.metadata?.namespace, 'istio-upgrade-operator');
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(job.spec?.activeDeadlineSeconds, 1800);
    assert.equal(job.metadata?.ownerReferences?.[0]?.uid, owner.uid);
    assert.equal(job.spec?.template.metadata?.labels?.['istioupgrade.dev/purpose'], 'install');
    assert.equal(job.spec?.template.metadata?.labels?.['istioupgrade.dev/upgrade'], owner.uid);
    const pod = job.spec?.template.spec;
    assert.equal(pod?.serviceAccountName, 'istio-upgrade-installer');
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.containers[0]?.image, 'docker.io/istio/istioctl:1.31.0');
    assert.deepEqual(pod.containers[0]?.args, ['install', '-y', '--set', 'revision=1-31-0', '--set', 'profile=minimal']);
    assert.equal(pod.containers[0]?.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(overlayConfigMap(installerJob(owner, spec, { purpose: 'install', revision: '1-31-0', istioNamespace: 'istio-system', allowedImages: DEFAULT_INSTALLER_IMAGES }), owner, settings), undefined);
  });

  it('mounts the values overlay from a ConfigMap named after the Job', () => {
    const spec = IstioUpgradeSpecSchema.parse({ version: '1.31.0', installer: { istioctl: { values: { values: { global: { logAsJson: true } } } } } });
    const action = installerJob(owner, spec, { purpose: 'install', revision: '1-31-0', istioNamespace: 'istio-system', allowedImages: DEFAULT_INSTALLER_IMAGES });
    const configMap = overlayConfigMap(action, owner, settings);
    assert.equal(configMap?.metadata?.name, action.jobName);
    assert.match(configMap.data?.['overlay.yaml'] ?? '', /kind: IstioOperator[\s\S]*logAsJson: true/);
    const pod = installerJobSpec(action, owner, settings).spec?.template.spec;
    assert.ok(pod !== undefined);
    assert.ok(pod.containers[0]?.volumeMounts?.some((m) => m.name === 'overlay' && m.mountPath === '/etc/istio-upgrade'));
    assert.ok(pod.volumes?.some((v) => v.configMap?.name === action.jobName));
    assert.deepEqual(pod.containers[0]?.args?.slice(-2), ['-f', '/etc/istio-upgrade/overlay.yaml']);
  });

  it('helm mode: a helm container with its homes on the /tmp emptyDir, repository credentials from the Secret, values as a file, the helm role bound', () => {
    const upgrade = makeUpgrade(
      { version: '1.31.0', installer: { mode: 'helm', helm: { repository: 'https://charts.example/istio', credentialsSecret: 'repo-creds', values: { istiod: { pilot: { traceSampling: 1 } } } } } },
      { name: owner.name, uid: owner.uid },
    );
    const action = installIstiodJob(helmContext({ upgrade, spec: upgrade.spec, observed: sampleMesh() }), '1-31-0', false);
    const pod = installerJobSpec(action, owner, settings).spec?.template.spec;
    const container = pod?.containers[0];
    assert.equal(container?.name, 'helm');
    assert.equal(container.image, 'docker.io/alpine/helm:3.22.0');
    assert.deepEqual(container.args?.slice(0, 3), ['upgrade', '--install', 'istiod-1-31-0']);
    assert.ok(container.args?.includes('$(HELM_REPO_USERNAME)') && container.args.includes('$(HELM_REPO_PASSWORD)'));
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? `${e.valueFrom?.secretKeyRef?.name ?? '?'}/${e.valueFrom?.secretKeyRef?.key ?? '?'}`]));
    assert.deepEqual(env, {
      HOME: '/tmp',
      HELM_CACHE_HOME: '/tmp/helm/cache',
      HELM_CONFIG_HOME: '/tmp/helm/config',
      HELM_DATA_HOME: '/tmp/helm/data',
      HELM_REPO_USERNAME: 'repo-creds/username',
      HELM_REPO_PASSWORD: 'repo-creds/password',
    });
    assert.ok(container.volumeMounts?.some((m) => m.mountPath === '/tmp'), 'the homes are writable with a read-only root filesystem');
    assert.match(overlayConfigMap(action, owner, settings)?.data?.['overlay.yaml'] ?? '', /pilot:\n\s+traceSampling: 1/);
    assert.equal(installerBinding(action, owner, settings).roleRef.name, 'istio-upgrade-installer-helm');
    const istioctlSpec = IstioUpgradeSpecSchema.parse({ version: '1.31.0' });
    assert.equal(roleOf(installerJob(owner, istioctlSpec, { purpose: 'install', revision: '1-31-0', istioNamespace: 'istio-system', allowedImages: DEFAULT_INSTALLER_IMAGES })), 'istio-upgrade-installer');
  });
});

function roleOf(action: Parameters<typeof installerBinding>[0]): string {
  return installerBinding(action, owner, settings).roleRef.name;
}
