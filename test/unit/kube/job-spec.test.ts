import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IstioUpgradeSpecSchema } from '../../../src/api/schema.ts';
import { installerJob } from '../../../src/core/installer-jobs.ts';
import { DEFAULT_INSTALLER_IMAGES } from '../../../src/core/installer-images.ts';
import { installerJobSpec, overlayConfigMap } from '../../../src/kube/installer/job-spec.ts';

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
});
