import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IstioUpgradeSpecSchema } from '../../src/api/schema.ts';
import { formatDuration, parseDuration } from '../../src/core/duration.ts';
import { StalledError, TransientError, WaitingError, requeueFor } from '../../src/core/errors.ts';
import { installerJob, installerJobName } from '../../src/core/installer-jobs.ts';
import { DEFAULT_INSTALLER_IMAGES, INSTALLER_IMAGE_ENTRY, chooseInstallerImage } from '../../src/core/installer-images.ts';
import { matchesSelector } from '../../src/core/selectors.ts';
import { kubernetesMinor, kubernetesSupport } from '../../src/core/support-matrix.ts';
import { compareVersions, imageTag, parseVersion, revisionForVersion, versionFromImage } from '../../src/core/version.ts';
import { rolloutComplete } from '../../src/core/workloads.ts';

describe('durations', () => {
  const good: [string, number][] = [['30s', 30_000], ['5m', 300_000], ['1h30m', 5_400_000], ['250ms', 250], ['1.5s', 1500], ['0s', 0]];
  for (const [text, ms] of good) it(`${text} = ${ms}ms`, () => {
    assert.equal(parseDuration(text), ms);
  });
  for (const text of ['', '5', '5 m', 'm5', '5d', '-1s']) it(`rejects "${text}"`, () => {
    assert.throws(() => parseDuration(text), /invalid duration/);
  });
  it('formats', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(61_000), '1m1s');
    assert.equal(formatDuration(3_600_000), '1h');
  });
});

describe('versions', () => {
  it('parses and orders', () => {
    assert.deepEqual(parseVersion('1.31.0'), { major: 1, minor: 31, patch: 0 });
    assert.deepEqual(parseVersion('v1.30.4-distroless'), { major: 1, minor: 30, patch: 4 });
    assert.equal(parseVersion('latest'), undefined);
    const [a, b] = [parseVersion('1.30.4'), parseVersion('1.31.0')];
    assert.ok(a !== undefined && b !== undefined && compareVersions(a, b) < 0 && compareVersions(b, a) > 0 && compareVersions(a, a) === 0);
  });
  it('derives revisions and reads image tags', () => {
    assert.equal(revisionForVersion('1.31.0'), '1-31-0');
    assert.equal(imageTag('docker.io/istio/pilot:1.31.0'), '1.31.0');
    assert.equal(imageTag('localhost:5000/istio/pilot'), undefined);
    assert.equal(imageTag('docker.io/istio/pilot:1.31.0@sha256:abc'), '1.31.0');
    assert.deepEqual(versionFromImage('gcr.io/istio-release/pilot:1.30.4-distroless'), { major: 1, minor: 30, patch: 4 });
    assert.equal(versionFromImage('docker.io/istio/pilot:latest'), undefined);
  });
});

describe('support matrix', () => {
  it('knows the supported Kubernetes range of known releases', () => {
    assert.deepEqual(kubernetesSupport(1, 30, 34), { kind: 'supported' });
    assert.deepEqual(kubernetesSupport(1, 30, 31), { kind: 'unsupported', range: { minMinor: 32, maxMinor: 36 } });
    assert.deepEqual(kubernetesSupport(1, 99, 34), { kind: 'unknown' });
    assert.equal(kubernetesMinor('v1.34.10'), 34);
    assert.equal(kubernetesMinor('1.33.2+k3s1'), 33);
    assert.equal(kubernetesMinor('weird'), undefined);
  });
});

describe('label selectors', () => {
  const labels = { tier: 'edge', team: 'a' };
  const cases: [string, Parameters<typeof matchesSelector>[0], boolean][] = [
    ['empty selector matches everything', {}, true],
    ['matchLabels', { matchLabels: { tier: 'edge' } }, true],
    ['matchLabels mismatch', { matchLabels: { tier: 'core' } }, false],
    ['In', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] }, true],
    ['In on a missing key', { matchExpressions: [{ key: 'x', operator: 'In', values: ['a'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, false],
    ['NotIn on a missing key', { matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['Exists on a missing key', { matchExpressions: [{ key: 'x', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
  ];
  for (const [name, selector, expected] of cases) it(name, () => {
    assert.equal(matchesSelector(selector, labels), expected);
  });
});

describe('error classes decide requeueing', () => {
  it('stalled: never; waiting: after its delay; anything else: backoff', () => {
    assert.deepEqual(requeueFor(new StalledError('Invalid', 'x')), { kind: 'none' });
    assert.deepEqual(requeueFor(new WaitingError('WatchFailed', 'x', 5000)), { kind: 'after', delayMs: 5000 });
    assert.deepEqual(requeueFor(new TransientError('x')), { kind: 'backoff', atLeastMs: 0 });
    assert.deepEqual(requeueFor(new TransientError('x', { retryAfterMs: 3000 })), { kind: 'backoff', atLeastMs: 3000 }, '429 Retry-After');
    assert.deepEqual(requeueFor(new Error('x')), { kind: 'backoff', atLeastMs: 0 });
  });
});

describe('installer Jobs', () => {
  const spec = IstioUpgradeSpecSchema.parse({ version: '1.31.0', installer: { istioctl: { profile: 'default', values: { meshConfig: { accessLogFile: '/dev/stdout' } } } } });
  it('have deterministic names that fit a label value', () => {
    const name = installerJobName('a'.repeat(80), '0f8fad5b-d9cb-469f-a165-70867728950e', 'uninstall');
    assert.ok(name.length <= 63);
    assert.match(name, /^a+-uninstall-0f8fad5b$/);
    // Deterministic: the same upgrade and purpose always name the same Job (a resumed operator finds it).
    assert.equal(installerJobName('x', '0f8fad5b-d9cb', 'install'), 'x-install-0f8fad5b');
    assert.notEqual(installerJobName('x', '0f8fad5b-d9cb', 'install'), installerJobName('x', '1a2b3c4d-d9cb', 'install'));
  });
  it('run the right istioctl commands with the image of the target version', () => {
    const meta = { name: 'up', uid: 'abc' };
    const ns = { istioNamespace: 'istio-control', allowedImages: DEFAULT_INSTALLER_IMAGES };
    assert.deepEqual(installerJob(meta, spec, { purpose: 'precheck', revision: '1-31-0', fromMinor: '1.30', ...ns }).args, ['x', 'precheck', '--revision', '1-31-0', '--from-version', '1.30', '--istioNamespace', 'istio-control']);
    // install ignores -i: the namespace goes into the IstioOperator overlay, as does the user's overlay.
    const install = installerJob(meta, spec, { purpose: 'install', revision: '1-31-0', ...ns });
    assert.deepEqual(install.args, ['install', '-y', '--set', 'revision=1-31-0', '--set', 'profile=default', '-f', '/etc/istio-upgrade/overlay.yaml']);
    assert.deepEqual(install.overlay, { apiVersion: 'install.istio.io/v1alpha1', kind: 'IstioOperator', metadata: { namespace: 'istio-control' }, spec: { meshConfig: { accessLogFile: '/dev/stdout' } } });
    assert.equal(install.image, 'docker.io/istio/istioctl:1.31.0');
    // uninstall selects what it deletes by the overlay's metadata.namespace; -i only steers its proxy check.
    const uninstall = installerJob(meta, spec, { purpose: 'uninstall', revision: '1-30-4', ...ns });
    assert.deepEqual(uninstall.args, ['uninstall', '--revision', '1-30-4', '-y', '-f', '/etc/istio-upgrade/overlay.yaml', '--istioNamespace', 'istio-control']);
    assert.deepEqual(uninstall.overlay, { apiVersion: 'install.istio.io/v1alpha1', kind: 'IstioOperator', metadata: { namespace: 'istio-control' }, spec: {} });
    const plain = installerJob(meta, IstioUpgradeSpecSchema.parse({ version: '1.31.0' }), { purpose: 'install', revision: '1-31-0', istioNamespace: 'istio-system', allowedImages: DEFAULT_INSTALLER_IMAGES });
    assert.equal(plain.overlay, undefined);
    assert.ok(!plain.args.includes('-f'));
    assert.deepEqual(installerJob(meta, spec, { purpose: 'uninstall', revision: '1-30-4', istioNamespace: 'istio-system', allowedImages: DEFAULT_INSTALLER_IMAGES }).args, ['uninstall', '--revision', '1-30-4', '-y', '--istioNamespace', 'istio-system']);
  });

  it('run a pinned installer image by its digest when the allowlist pins that version', () => {
    const meta = { name: 'up', uid: 'abc' };
    const pinned = `docker.io/istio/istioctl:1.31.0@sha256:${'a'.repeat(64)}`;
    const input = { purpose: 'install' as const, revision: '1-31-0', istioNamespace: 'istio-system' };
    assert.equal(installerJob(meta, spec, { ...input, allowedImages: [pinned] }).image, pinned);
    assert.equal(installerJob(meta, spec, { ...input, allowedImages: ['docker.io/istio/istioctl', pinned] }).image, pinned, 'the pinned entry wins');
  });
});

describe('installer image allowlist', () => {
  const digest = `sha256:${'b'.repeat(64)}`;
  const cases: { name: string; repository: string; version: string; allowed: string[]; expected: string | RegExp }[] = [
    { name: 'a repository entry allows any version, run by tag', repository: 'docker.io/istio/istioctl', version: '1.31.0', allowed: ['docker.io/istio/istioctl'], expected: 'docker.io/istio/istioctl:1.31.0' },
    { name: 'a pinned entry runs that digest', repository: 'docker.io/istio/istioctl', version: '1.31.0', allowed: [`docker.io/istio/istioctl:1.31.0@${digest}`], expected: `docker.io/istio/istioctl:1.31.0@${digest}` },
    { name: 'pinned entries only: another version is refused', repository: 'docker.io/istio/istioctl', version: '1.30.4', allowed: [`docker.io/istio/istioctl:1.31.0@${digest}`], expected: /allowed only pinned by digest, and not for version 1\.30\.4/ },
    { name: 'a registry with a port', repository: 'registry.local:5000/mirror/istioctl', version: '1.31.0', allowed: [`registry.local:5000/mirror/istioctl:1.31.0@${digest}`], expected: `registry.local:5000/mirror/istioctl:1.31.0@${digest}` },
    { name: 'another repository is refused', repository: 'evil.example/istioctl', version: '1.31.0', allowed: ['docker.io/istio/istioctl'], expected: /installer image "evil\.example\/istioctl" is not allowed/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const choice = chooseInstallerImage(c.repository, c.version, c.allowed);
      if (typeof c.expected === 'string') assert.deepEqual(choice, { ok: true, reference: c.expected });
      else assert.ok(!choice.ok && c.expected.test(choice.message), JSON.stringify(choice));
    });
  }
  it('entries are a repository or repository:version@sha256:<64 hex>, nothing else', () => {
    for (const good of ['docker.io/istio/istioctl', 'registry.local:5000/mirror/istioctl', `docker.io/istio/istioctl:1.31.0@${digest}`]) assert.match(good, INSTALLER_IMAGE_ENTRY, good);
    for (const bad of ['docker.io/istio/istioctl:1.31.0', `docker.io/istio/istioctl@${digest}`, 'docker.io/istio/istioctl:1.31.0@sha256:abc', 'a b']) assert.doesNotMatch(bad, INSTALLER_IMAGE_ENTRY, bad);
  });
});

describe('rollout completion', () => {
  const done = { generation: 2, observedGeneration: 2, desired: 3, updated: 3, ready: 3, total: 3 };
  const cases: [string, typeof done, boolean][] = [
    ['complete', done, true],
    ['controller has not seen the change', { ...done, observedGeneration: 1 }, false],
    ['not all updated', { ...done, updated: 2 }, false],
    ['not all ready', { ...done, ready: 2 }, false],
    ['old pods still around', { ...done, total: 4 }, false],
    ['scaled to zero', { ...done, desired: 0, updated: 0, ready: 0, total: 0 }, true],
  ];
  for (const [name, state, expected] of cases) it(name, () => {
    assert.equal(rolloutComplete(state), expected);
  });
});

describe('a workload on a revision', () => {
  it('needs its desired pods to be seen, all injected by the revision', async () => {
    const { workload, OLD, NEW } = await import('../support/fixtures.ts');
    const { workloadOnRevision } = await import('../../src/core/workloads.ts');
    const w = workload('bar', 'api', NEW.revision, { replicas: 2 });
    assert.equal(workloadOnRevision(w, NEW.revision), true);
    assert.equal(workloadOnRevision(w, OLD.revision), false);
    assert.equal(workloadOnRevision({ ...w, pods: [] }, NEW.revision), false, 'pods not observed');
    assert.equal(workloadOnRevision({ ...w, pods: w.pods.map((p) => ({ ...p, injectedRevision: undefined })) }, NEW.revision), false, 'not injected');
    const terminatingOld = { ...w.pods[0], name: 'old', injectedRevision: OLD.revision, terminating: true } as (typeof w.pods)[number];
    assert.equal(workloadOnRevision({ ...w, pods: [...w.pods, terminatingOld] }, NEW.revision), true, 'terminating pods do not count');
  });
});
