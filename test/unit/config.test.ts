import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';

describe('configuration', () => {
  it('has defaults for everything', () => {
    const result = loadConfig([], {});
    assert.equal(result.kind, 'run');
    if (result.kind !== 'run') return;
    assert.equal(result.config.namespace, 'istio-upgrade-operator');
    assert.equal(result.config.istioNamespace, 'istio-system');
    assert.equal(result.config.leaderElect, true);
    assert.equal(result.config.metricsHost, '0.0.0.0');
    assert.equal(result.config.metricsPort, 9464);
    assert.equal(result.config.metricsAuth, 'kubernetes', 'secure by default');
    assert.deepEqual(result.config.installerImages, ['docker.io/istio/istioctl', 'docker.io/alpine/helm']);
    assert.equal(result.config.resyncMs, 60_000);
    assert.equal(result.config.installerTimeoutMs, 1_800_000);
    assert.equal(result.config.kubeconfig, undefined);
    assert.ok(Object.isFrozen(result.config));
  });

  it('reads flags over the environment', () => {
    const result = loadConfig(['--namespace', 'ops', '--leader-elect', 'false', '--metrics-bind-address', '127.0.0.1:9999', '--kubeconfig', '/k'], { POD_NAMESPACE: 'other', KUBECONFIG: '/env', POD_NAME: 'op-0' });
    assert.ok(result.kind === 'run');
    assert.equal(result.config.namespace, 'ops');
    assert.equal(result.config.leaderElect, false);
    assert.equal(result.config.metricsPort, 9999);
    assert.equal(result.config.kubeconfig, '/k');
    assert.equal(result.config.identity, 'op-0');
  });

  it('serves /metrics without authentication only on a loopback address', () => {
    const result = loadConfig(['--metrics-auth', 'none', '--metrics-bind-address', '127.0.0.1:9464'], {});
    assert.ok(result.kind === 'run');
    assert.equal(result.config.metricsAuth, 'none');
  });

  it('reads the installer image allowlist (a registry with a port included)', () => {
    const result = loadConfig(['--installer-images', 'docker.io/istio/istioctl,registry.local:5000/mirror/istioctl'], {});
    assert.ok(result.kind === 'run');
    assert.deepEqual(result.config.installerImages, ['docker.io/istio/istioctl', 'registry.local:5000/mirror/istioctl']);
  });

  const bad: [string[], RegExp][] = [
    [['--resync', '5'], /--resync: must be a duration/],
    [['--leader-elect', 'yes'], /--leader-elect/],
    [['--metrics-bind-address', 'nope'], /--metrics-bind-address/],
    [['--namespace', 'Bad_NS'], /--namespace: must be a DNS label/],
    [['--log-level', 'loud'], /--log-level/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--metrics-auth', 'none'], /--metrics-auth=none would serve \/metrics to anyone who can reach 0\.0\.0\.0; bind it to 127\.0\.0\.1/],
    [['--metrics-auth', 'basic'], /--metrics-auth/],
    [['--installer-images', 'docker.io/istio/istioctl:1.31.0'], /--installer-images: must be an image repository \(any version\), or repository:version@sha256/],
    [['--installer-images', ''], /--installer-images/],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${argv.join(' ')} with a clear message`, () => {
      const result = loadConfig(argv, {});
      assert.equal(result.kind, 'error');
      assert.match(result.kind === 'error' ? result.message : '', message);
    });
  }

  it('answers --help and --version', () => {
    assert.equal(loadConfig(['--help'], {}).kind, 'help');
    assert.equal(loadConfig(['--version'], {}).kind, 'version');
  });
});
