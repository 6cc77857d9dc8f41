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

  const bad: [string[], RegExp][] = [
    [['--resync', '5'], /--resync: must be a duration/],
    [['--leader-elect', 'yes'], /--leader-elect/],
    [['--metrics-bind-address', 'nope'], /--metrics-bind-address/],
    [['--namespace', 'Bad_NS'], /--namespace: must be a DNS label/],
    [['--log-level', 'loud'], /--log-level/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
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
