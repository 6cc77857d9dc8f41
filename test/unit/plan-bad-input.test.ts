// Each bad input ends in a clear, terminal status reason and touches nothing in the cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IstioUpgradeSpecSchema } from '../../src/api/schema.ts';
import { findCondition } from '../../src/core/conditions.ts';
import type { ObservedState } from '../../src/core/observed.ts';
import { plan } from '../../src/core/plan.ts';
import { NEW, OLD, T0, injectorWebhook, makeUpgrade, revisionState, sampleMesh, tagWebhook } from '../support/fixtures.ts';
import type { IstioUpgradeSpecInput } from '../../src/api/schema.ts';

interface Case {
  readonly name: string;
  readonly spec?: Partial<IstioUpgradeSpecInput>;
  readonly mesh?: (m: ObservedState) => ObservedState;
  readonly reason: string;
  readonly message: RegExp;
}

const cases: Case[] = [
  { name: '3-minor jump', spec: { version: '1.33.0' }, reason: 'VersionSkewTooLarge', message: /spans 3 minor versions.*at most 2/ },
  { name: 'jump beyond a lowered maxMinorSkip', spec: { version: '1.31.0', precheck: { maxMinorSkip: 0 } }, reason: 'VersionSkewTooLarge', message: /at most 0/ },
  { name: 'major version change', spec: { version: '2.0.0' }, reason: 'VersionSkewTooLarge', message: /major/ },
  { name: 'downgrade', spec: { version: '1.29.2' }, reason: 'DowngradeNotAllowed', message: /allowDowngrade/ },
  { name: 'unknown tag', spec: { tag: 'canary' }, reason: 'TagNotFound', message: /revision tag "canary" not found/ },
  {
    name: 'tag pointing at an unready revision',
    mesh: (m) => ({ ...m, revisions: [revisionState(OLD.revision, OLD.version, false)] }),
    reason: 'FromRevisionNotReady',
    message: /not Ready/,
  },
  {
    name: 'tag pointing at a missing revision',
    mesh: (m) => ({ ...m, revisions: [] }),
    reason: 'FromRevisionNotReady',
    message: /missing/,
  },
  {
    name: 'name collision with a different version',
    mesh: (m) => ({ ...m, revisions: [...m.revisions, revisionState(NEW.revision, '1.31.1')], mutatingWebhooks: [...m.mutatingWebhooks, injectorWebhook(NEW.revision)] }),
    reason: 'RevisionConflict',
    message: /already exists.*1\.31\.1/,
  },
  {
    name: 'name collision with the same version not Ready',
    mesh: (m) => ({ ...m, revisions: [...m.revisions, revisionState(NEW.revision, NEW.version, false)] }),
    reason: 'RevisionConflict',
    message: /not Ready/,
  },
  { name: 'fromRevision not what the tag points at', spec: { fromRevision: '1-29-0' }, reason: 'FromRevisionMismatch', message: /points at revision "1-30-4"/ },
  { name: 'target equals the current revision', spec: { revision: OLD.revision }, reason: 'AlreadyOnRevision', message: /already points/ },
  { name: 'installer image outside the operator\'s allowlist', spec: { installer: { istioctl: { image: 'evil.example/istioctl' } } }, reason: 'InstallerImageNotAllowed', message: /installer image "evil.example\/istioctl" is not allowed; the operator runs only "docker.io\/istio\/istioctl"/ },
  { name: 'missing gateway', spec: { gateways: [{ namespace: 'istio-ingress', name: 'nope' }] }, reason: 'GatewayNotFound', message: /istio-ingress\/nope/ },
  { name: 'wave namespace that does not exist', spec: { rollout: { waves: [{ name: 'canary', namespaces: ['ghost'] }] } }, reason: 'InvalidWave', message: /"ghost" does not exist/ },
  { name: 'wave namespace not on the tag', spec: { rollout: { waves: [{ name: 'canary', namespaces: ['default'] }] } }, reason: 'InvalidWave', message: /nothing in namespace "default" is injected through tag "default"/ },
  {
    name: 'Kubernetes too old for the target Istio',
    mesh: (m) => ({ ...m, kubernetesVersion: 'v1.30.2' }),
    reason: 'KubernetesVersionUnsupported',
    message: /supports Kubernetes 1\.32-1\.36/,
    spec: { version: '1.30.9' },
  },
  {
    name: 'old istiod image without a version tag',
    mesh: (m) => ({ ...m, revisions: [revisionState(OLD.revision, undefined)] }),
    reason: 'FromVersionUnknown',
    message: /cannot tell/,
  },
  {
    name: 'tag webhook without a revision label',
    mesh: (m) => ({ ...m, mutatingWebhooks: [injectorWebhook(OLD.revision), { ...tagWebhook('default', OLD.revision), labels: { 'istio.io/tag': 'default' } }] }),
    reason: 'TagNotFound',
    message: /has no istio.io\/rev label/,
  },
];

describe('bad input ends Failed with a clear reason and no action', () => {
  for (const c of cases) {
    it(c.name, () => {
      const mesh = c.mesh === undefined ? sampleMesh() : c.mesh(sampleMesh());
      const result = plan(makeUpgrade(c.spec ?? {}), mesh, T0);
      assert.equal(result.status.phase, 'Failed');
      assert.deepEqual(result.actions, [], 'nothing is done to the cluster');
      const stalled = findCondition(result.status.conditions ?? [], 'Stalled');
      assert.equal(stalled?.status, 'True');
      assert.equal(stalled.reason, c.reason);
      assert.match(stalled.message, c.message);
      assert.equal(findCondition(result.status.conditions ?? [], 'PrecheckPassed')?.status, 'False');
      assert.equal(result.status.failure?.phase, 'Prechecking');
      assert.ok(result.events.some((e) => e.type === 'Warning' && e.reason === c.reason));
    });
  }

  it('allows a downgrade when asked', () => {
    const result = plan(makeUpgrade({ version: '1.29.2', precheck: { allowDowngrade: true, istioctl: false } }), sampleMesh(), T0);
    assert.equal(result.status.phase, 'Installing');
  });

  it('warns, does not fail, for an Istio release the support table does not know', () => {
    const result = plan(makeUpgrade({ version: '1.32.0', precheck: { istioctl: false } }), sampleMesh(), T0);
    assert.equal(result.status.phase, 'Installing');
    assert.ok(result.events.some((e) => e.type === 'Warning' && e.reason === 'PrecheckWarning' && /not known/.test(e.message)));
    assert.match(findCondition(result.status.conditions ?? [], 'PrecheckPassed')?.message ?? '', /not known/);
  });
});

describe('malformed specs are rejected by the schema', () => {
  const bad: [string, unknown][] = [
    ['version without patch', { version: '1.31' }],
    ['version with a v', { version: 'v1.31.0' }],
    ['revision with dots', { version: '1.31.0', revision: '1.31.0' }],
    ['upper-case tag', { version: '1.31.0', tag: 'Default' }],
    ['unknown installer mode', { version: '1.31.0', installer: { mode: 'helm' } }],
    ['bad duration', { version: '1.31.0', soak: { duration: '5 minutes' } }],
    ['zero concurrency', { version: '1.31.0', rollout: { waves: [{ name: 'a', maxConcurrentNamespaces: 0 }] } }],
    ['missing version', {}],
  ];
  for (const [name, spec] of bad) {
    it(name, () => {
      assert.equal(IstioUpgradeSpecSchema.safeParse(spec).success, false);
    });
  }
});
