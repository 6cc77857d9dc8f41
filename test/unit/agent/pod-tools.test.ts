import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { entrypointArguments } from '../../../hack/agent/container-command.ts';
import { processEnv } from '../../../hack/agent/installer-pod-runner.ts';
import { defaultPodTools, helmTool, helmVersionOfImage } from '../../../hack/agent/pod-tools.ts';
import { containerEnv, type KeyLookup } from '../../../hack/agent/pod-env.ts';

let binRoot: string;
const fakeBinary = (dir: string, name: string): string => {
  mkdirSync(join(binRoot, dir), { recursive: true });
  const path = join(binRoot, dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
};
before(() => {
  binRoot = mkdtempSync(join(tmpdir(), 'iuo-pod-tools-'));
});
after(() => {
  rmSync(binRoot, { recursive: true, force: true });
});

const pod = (...images: string[]): V1Pod => ({ spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } });
const noLookup: KeyLookup = { configMap: () => Promise.resolve(undefined), secret: () => Promise.resolve(undefined) };

describe('node agent: which pods run which tool', () => {
  it('a helm image (alpine/helm, any registry, with or without tag or digest) runs helm; istioctl images run istioctl', () => {
    const tools = defaultPodTools(binRoot);
    for (const image of ['docker.io/alpine/helm:3.22.0', 'alpine/helm:v3.22.0', 'helm:3.22.0', 'registry.local:5000/tools/helm:3.22.0', 'alpine/helm@sha256:abc', 'alpine/helm']) {
      assert.equal(tools.forImage(image)?.name, 'helm', image);
    }
    assert.equal(tools.forImage('docker.io/istio/istioctl:1.31.0')?.name, 'istioctl');
    for (const image of ['docker.io/alpine/helm-controller:3.22.0', 'docker.io/helm/kubectl:3.22.0', 'busybox:1.36', 'docker.io/istio/pilot:1.31.0']) {
      assert.equal(tools.forImage(image), undefined, image);
    }
  });

  it('picks the first tool container of a pod, and none in a pod without one', () => {
    const tools = defaultPodTools(binRoot);
    const found = tools.containerOf(pod('busybox:1.36', 'docker.io/alpine/helm:3.22.0'));
    assert.equal(found?.container.name, 'c1');
    assert.equal(found?.tool.name, 'helm');
    assert.equal(tools.containerOf(pod('busybox:1.36')), undefined);
    assert.equal(tools.containerOf({}), undefined);
  });
});

describe('node agent: image -> local binary', () => {
  it('the helm tag is the Helm version, with or without its leading v', () => {
    assert.equal(helmVersionOfImage('docker.io/alpine/helm:3.22.0'), 'v3.22.0');
    assert.equal(helmVersionOfImage('docker.io/alpine/helm:v3.22.0'), 'v3.22.0');
    assert.equal(helmVersionOfImage('registry.local:5000/helm:3.21.0@sha256:abc'), 'v3.21.0');
    assert.equal(helmVersionOfImage('docker.io/alpine/helm'), undefined);
    assert.equal(helmVersionOfImage('docker.io/alpine/helm@sha256:abc'), undefined);
  });

  it('resolves helm to bin/helm-v<version>/helm, and explains a missing one (ErrImagePull)', () => {
    const path = fakeBinary('helm-v3.22.0', 'helm');
    const helm = helmTool(binRoot);
    assert.deepEqual(helm.resolve('docker.io/alpine/helm:3.22.0'), { path, version: 'v3.22.0' });
    assert.deepEqual(helm.resolve('alpine/helm:v3.22.0'), { path, version: 'v3.22.0' });
    const missing = helm.resolve('docker.io/alpine/helm:3.99.0');
    assert.ok('error' in missing && missing.error.includes('no helm built for Helm v3.99.0') && missing.error.includes(join(binRoot, 'helm-v3.99.0', 'helm')), JSON.stringify(missing));
    const untagged = helm.resolve('docker.io/alpine/helm');
    assert.ok('error' in untagged && untagged.error.includes('has no tag'), JSON.stringify(untagged));
  });

  it('resolves istioctl as before: bin/istio-<version>/istioctl, variants included', () => {
    const path = fakeBinary('istio-1.31.0', 'istioctl');
    const istioctl = defaultPodTools(binRoot).forImage('docker.io/istio/istioctl:1.31.0-distroless');
    assert.deepEqual(istioctl?.resolve('docker.io/istio/istioctl:1.31.0-distroless'), { path, version: '1.31.0' });
    const missing = istioctl?.resolve('docker.io/istio/istioctl:1.29.0');
    assert.ok(missing !== undefined && 'error' in missing && missing.error.includes('no istioctl built for Istio 1.29.0'));
  });
});

describe('node agent: the environment and arguments of a tool process', () => {
  const home = '/runs/ns_pod-abc/home';
  const kubeconfig = '/runs/ns_pod-abc/kubeconfig';

  it('helm gets a private HOME and its XDG homes inside it, PATH of an image and the ServiceAccount kubeconfig', () => {
    const env = processEnv(helmTool(binRoot), { FOO: 'bar' }, home, kubeconfig);
    assert.deepEqual(env, {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: home,
      HELM_CACHE_HOME: `${home}/.cache/helm`,
      HELM_CONFIG_HOME: `${home}/.config/helm`,
      HELM_DATA_HOME: `${home}/.local/share/helm`,
      FOO: 'bar',
      KUBECONFIG: kubeconfig,
    });
  });

  it("the pod's own HOME and HELM_* win; KUBECONFIG is always the ServiceAccount's", () => {
    const env = processEnv(helmTool(binRoot), { HOME: '/work', HELM_CACHE_HOME: '/cache', KUBECONFIG: '/etc/admin.conf' }, home, kubeconfig);
    assert.equal(env['HOME'], '/work');
    assert.equal(env['HELM_CACHE_HOME'], '/cache');
    assert.equal(env['HELM_CONFIG_HOME'], `${home}/.config/helm`);
    assert.equal(env['KUBECONFIG'], kubeconfig);
  });

  it('istioctl gets exactly what it got before: PATH, HOME, the container env, KUBECONFIG', () => {
    const istioctl = defaultPodTools(binRoot).forImage('docker.io/istio/istioctl:1.31.0');
    assert.ok(istioctl);
    assert.deepEqual(Object.keys(processEnv(istioctl, { A: '1' }, home, kubeconfig)), ['PATH', 'HOME', 'A', 'KUBECONFIG']);
  });

  it('args are the container args after $(VAR) expansion from the container env; `command` must be helm', async () => {
    const helmContainer = (command: string[] | undefined, args: string[]): V1Container => ({
      name: 'helm',
      image: 'docker.io/alpine/helm:3.22.0',
      env: [
        { name: 'NS', value: 'scratch' },
        { name: 'REPO', value: 'http://10.250.0.1:8879/' },
        { name: 'CHART_URL', value: '$(REPO)gateway-1.31.0.tgz' },
      ],
      ...(command === undefined ? {} : { command }),
      args,
    });
    const container = helmContainer(undefined, ['install', 'demo', 'gateway', '--repo', '$(REPO)', '-n', '$(NS)', '--set', 'x=$$(NS)', '--set', 'y=$(UNSET)']);
    const env = await containerEnv(container, { metadata: { name: 'p', namespace: 'scratch' } }, noLookup);
    assert.equal(env['CHART_URL'], 'http://10.250.0.1:8879/gateway-1.31.0.tgz');
    assert.deepEqual(entrypointArguments(container, 'helm', env), ['install', 'demo', 'gateway', '--repo', 'http://10.250.0.1:8879/', '-n', 'scratch', '--set', 'x=$(NS)', '--set', 'y=$(UNSET)']);
    assert.deepEqual(entrypointArguments(helmContainer(['helm', 'upgrade'], ['--install', 'demo']), 'helm', env), ['upgrade', '--install', 'demo']);
    assert.deepEqual(entrypointArguments(helmContainer(['/usr/bin/helm'], ['list']), 'helm', env), ['list']);
    const shell = entrypointArguments(helmContainer(['/bin/sh', '-c', 'helm list'], []), 'helm', env);
    assert.ok('error' in shell && shell.error.includes('is not helm'));
  });
});
