// Helm mode walked through the in-memory mesh, which does to the tag what Helm does (a release that stops
// rendering a tag deletes it unless it is marked keep): the tag is never missing, each helm command runs once,
// even across crashes, and a failed soak hands the tag back and rolls the gateway release back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ISTIO_TAG_LABEL } from '../../src/api/constants.ts';
import type { IstioUpgradeSpecInput } from '../../src/api/schema.ts';
import { renderPlanText } from '../../src/cli/plan-report.ts';
import { findCondition } from '../../src/core/conditions.ts';
import { Draft } from '../../src/core/draft.ts';
import { previewPlan } from '../../src/core/plan-preview.ts';
import { chartArgs, helmContext, installIstiodJob, rollbackGatewayJob, setRevisionTagsJob, upgradeGatewayJob } from '../../src/core/helm-jobs.ts';
import { owningRelease } from '../../src/core/helm-release.ts';
import type { ObservedState } from '../../src/core/observed.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';
import { NEW, OLD, helmRevisionState, makeUpgrade, sampleMesh, tagWebhook, workload } from '../support/fixtures.ts';

const OLD_RELEASE = `istiod-${OLD.revision}`;
const NEW_RELEASE = `istiod-${NEW.revision}`;
const REPO = 'http://charts.example/istio';
/** A Prometheus soak whose check fails once the walk's error ratio rises. */
const FAILING_SOAK = { duration: '5m', prometheus: { address: 'http://prometheus:9090', interval: '30s', failureLimit: 1, checks: [{ name: 'error-ratio', query: 'ratio{ns=~"{{namespaces}}"}', max: 0.01 }] } };

const HELM_SPEC: Partial<IstioUpgradeSpecInput> = {
  installer: { mode: 'helm', helm: { repository: REPO, gateways: [{ namespace: 'istio-ingress', release: 'istio-ingress' }] } },
  rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 2 }] },
};

function ownedTag(tag: string, revision: string, release: string) {
  const plain = tagWebhook(tag, revision);
  return { ...plain, labels: { ...plain.labels, 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': 'istio-system' } };
}

/** The sample mesh installed with Helm: istiod-1-30-4 renders tag default; the gateway is release istio-ingress. */
function helmMesh(overrides: Partial<ObservedState> = {}): ObservedState {
  const base = sampleMesh();
  const gateway = workload('istio-ingress', 'istio-ingress', OLD.revision, { labels: { 'app.kubernetes.io/managed-by': 'Helm' } });
  // The base chart's default validator: it calls Service istiod (defaultRevision "default"), which a revisioned
  // install does not have; it belongs to release istio-base, not to the tag.
  const validator = {
    name: 'istiod-default-validator',
    labels: { app: 'istiod', 'istio.io/rev': 'default', 'app.kubernetes.io/managed-by': 'Helm' },
    annotations: { 'meta.helm.sh/release-name': 'istio-base', 'meta.helm.sh/release-namespace': 'istio-system' },
    webhooks: [{ name: 'validation.istio.io', clientConfig: { service: { name: 'istiod', namespace: 'istio-system', path: '/validate' } } }],
  };
  return {
    ...base,
    validatingWebhooks: [validator],
    revisions: [helmRevisionState(OLD.revision, OLD.version, OLD_RELEASE)],
    mutatingWebhooks: [...base.mutatingWebhooks.filter((w) => w.labels[ISTIO_TAG_LABEL] === undefined), ownedTag('default', OLD.revision, OLD_RELEASE)],
    workloads: [
      { ...gateway, annotations: { 'meta.helm.sh/release-name': 'istio-ingress', 'meta.helm.sh/release-namespace': 'istio-ingress' } },
      ...base.workloads.filter((w) => w.name !== 'istio-ingressgateway'),
    ],
    ...overrides,
  };
}

function helmFakeMesh(observed = helmMesh(), options: ConstructorParameters<typeof FakeMesh>[1] = {}): FakeMesh {
  return new FakeMesh(observed, { helmReleases: { [OLD_RELEASE]: { revision: OLD.revision, tags: ['default'] } }, ...options });
}

/** Records every pass where the tag is missing or sends pods nowhere. */
function tagGaps(mesh: FakeMesh, gaps: string[], phase: string | undefined): void {
  const tag = mesh.observed.mutatingWebhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === 'default');
  if (tag === undefined) gaps.push(`${phase ?? '?'}: tag missing`);
}

describe('helm mode: commands', () => {
  const upgrade = makeUpgrade(HELM_SPEC);
  const ctx = helmContext({ upgrade, spec: upgrade.spec, observed: helmMesh() });

  it('runs each step as one helm command with a deterministic Job name', () => {
    const cases = [
      { action: installIstiodJob(ctx, NEW.revision, false), args: ['upgrade', '--install', NEW_RELEASE, 'istiod', '--repo', REPO, '--version', NEW.version, '--namespace', 'istio-system', '--set', `revision=${NEW.revision}`] },
      { action: installIstiodJob(ctx, NEW.revision, true), args: ['upgrade', '--install', NEW_RELEASE, 'istiod', '--repo', REPO, '--version', NEW.version, '--namespace', 'istio-system', '--set', `revision=${NEW.revision}`, '--dry-run'] },
      {
        action: setRevisionTagsJob(ctx, 'tag-new', { release: NEW_RELEASE, chartVersion: NEW.version }, ['default']),
        args: ['upgrade', NEW_RELEASE, 'istiod', '--repo', REPO, '--version', NEW.version, '--namespace', 'istio-system', '--reset-then-reuse-values', '--set', 'revisionTags={default}', '--take-ownership'],
      },
      {
        action: setRevisionTagsJob(ctx, 'tag-old', { release: OLD_RELEASE, chartVersion: OLD.version }, []),
        args: ['upgrade', OLD_RELEASE, 'istiod', '--repo', REPO, '--version', OLD.version, '--namespace', 'istio-system', '--reset-then-reuse-values', '--set', 'revisionTags=null'],
      },
      { action: upgradeGatewayJob(ctx, { index: 0, namespace: 'istio-ingress', release: 'istio-ingress' }, false), args: ['upgrade', 'istio-ingress', 'gateway', '--repo', REPO, '--version', NEW.version, '--namespace', 'istio-ingress', '--reset-then-reuse-values'] },
      { action: rollbackGatewayJob(ctx, { index: 0, namespace: 'istio-ingress', release: 'istio-ingress' }), args: ['rollback', 'istio-ingress', '--namespace', 'istio-ingress'] },
    ];
    for (const { action, args } of cases) {
      assert.equal(action.tool, 'helm');
      assert.equal(action.image, 'docker.io/alpine/helm:3.22.0');
      assert.deepEqual(action.args, args, action.purpose);
      assert.match(action.jobName, new RegExp(`^${upgrade.metadata.name}-${action.purpose}-[0-9a-f]{8}$`));
    }
  });

  it('passes an OCI chart by reference, credentials as $(VAR)s, and values as a mounted file', () => {
    const oci = makeUpgrade({ ...HELM_SPEC, installer: { mode: 'helm', helm: { repository: 'oci://registry.example/istio/', credentialsSecret: 'repo-creds', values: { istiod: { pilot: { env: { A: 'b' } } } } } } });
    assert.deepEqual(chartArgs(oci.spec, 'gateway'), ['oci://registry.example/istio/gateway', '--username', '$(HELM_REPO_USERNAME)', '--password', '$(HELM_REPO_PASSWORD)']);
    const install = installIstiodJob(helmContext({ upgrade: oci, spec: oci.spec, observed: helmMesh() }), NEW.revision, false);
    assert.deepEqual(install.args.slice(-2), ['-f', '/etc/istio-upgrade/overlay.yaml']);
    assert.deepEqual(install.overlay, { pilot: { env: { A: 'b' } } });
    assert.equal(install.credentialsSecret, 'repo-creds');
  });
});

describe('helm mode: the canary upgrade of a Helm-installed mesh', () => {
  it('installs a new release, hands the tag over without a gap, upgrades the gateway release, removes the old release', () => {
    const mesh = helmFakeMesh();
    const gaps: string[] = [];
    const result = walk(makeUpgrade(HELM_SPEC), mesh, { beforePass: (_p, upgrade, m) => (tagGaps(m, gaps, upgrade.status.phase), undefined) });
    assert.equal(result.upgrade.status.phase, 'Succeeded', result.phases.join(' > '));
    assert.deepEqual(gaps, [], 'the tag exists on every pass');
    assert.deepEqual(mesh.helmRuns, [
      `precheck ${NEW_RELEASE}`,
      `precheck-old ${OLD_RELEASE}`,
      'precheck-gw0 istio-ingress',
      'install-base istio-base',
      `install ${NEW_RELEASE}`,
      `tag-new ${NEW_RELEASE}`,
      `tag-old ${OLD_RELEASE}`,
      'gw0 istio-ingress',
      `uninstall ${OLD_RELEASE}`,
    ]);
    const tag = mesh.observed.mutatingWebhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === 'default');
    assert.equal(owningRelease(tag ?? { labels: {}, annotations: {} })?.name, NEW_RELEASE);
    assert.equal(tag?.labels['istio.io/rev'], NEW.revision);
    assert.equal(tag?.annotations['helm.sh/resource-policy'], undefined, 'the keep mark is removed once the new release renders the tag');
    assert.deepEqual(mesh.observed.revisions.map((r) => r.revision), [NEW.revision]);
    assert.equal(mesh.helmRolls.get('Deployment/istio-ingress/istio-ingress'), 1, 'the gateway is rolled by helm upgrade once');
    assert.equal(mesh.restarts.get('Deployment/istio-ingress/istio-ingress'), undefined, 'and never restarted by the operator');
    for (const w of mesh.observed.workloads.filter((x) => x.name !== 'unmeshed')) for (const p of w.pods) assert.equal(p.injectedRevision, NEW.revision, `${w.namespace}/${p.name}`);
    assert.ok([...mesh.jobRuns.values()].every((n) => n === 1), 'each Job created once');
    assert.deepEqual(mesh.tagWrites, [], 'the operator never writes tag objects of its own in helm mode');
    assert.equal(result.upgrade.status.tagReverts, undefined);
  });

  it('without the keep mark the old release would delete the tag: the mark is set before the old release gives it up', () => {
    const mesh = helmFakeMesh();
    const order: string[] = [];
    walk(makeUpgrade(HELM_SPEC), mesh, {
      afterPlan: (result) => {
        for (const a of result.actions) {
          if (a.type === 'setTagResourcePolicy') order.push(a.keep ? 'keep' : 'unkeep');
          if (a.type === 'runInstallerJob' && (a.purpose === 'tag-new' || a.purpose === 'tag-old')) order.push(a.purpose);
        }
      },
    });
    assert.deepEqual(order, ['keep', 'tag-new', 'tag-old', 'unkeep']);
  });

  it('resumes after a crash at any pass with no helm command run twice', () => {
    for (let crashAt = 0; crashAt < 30; crashAt += 1) {
      const mesh = helmFakeMesh();
      const result = walk(makeUpgrade(HELM_SPEC), mesh, { crashAfterActions: (pass) => pass === crashAt });
      assert.equal(result.upgrade.status.phase, 'Succeeded', `crash at ${crashAt}: ${result.phases.join(' > ')}`);
      assert.equal(new Set(mesh.helmRuns).size, mesh.helmRuns.length, `crash at ${crashAt}: ${mesh.helmRuns.join(', ')}`);
    }
  });

  it('rolls back on a failed soak: the tag goes back to the old release, the gateway release is rolled back', () => {
    const mesh = helmFakeMesh();
    const gaps: string[] = [];
    const result = walk(makeUpgrade({ ...HELM_SPEC, soak: FAILING_SOAK, rollback: { removeNewRevision: true } }), mesh, {
      errorRatio: (namespaces) => (namespaces.includes('bar') ? 0.5 : 0),
      beforePass: (_p, upgrade, m) => (tagGaps(m, gaps, upgrade.status.phase), undefined),
    });
    assert.equal(result.upgrade.status.phase, 'RolledBack', result.phases.join(' > '));
    assert.deepEqual(gaps, []);
    assert.deepEqual(mesh.helmRuns.slice(-4), [`rollback-tag-old ${OLD_RELEASE}`, `rollback-tag-new ${NEW_RELEASE}`, 'rollback-gw0 istio-ingress', `uninstall-new ${NEW_RELEASE}`]);
    const tag = mesh.observed.mutatingWebhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === 'default');
    assert.equal(owningRelease(tag ?? { labels: {}, annotations: {} })?.name, OLD_RELEASE);
    assert.equal(tag?.labels['istio.io/rev'], OLD.revision);
    assert.equal(tag?.annotations['helm.sh/resource-policy'], undefined);
    assert.equal(mesh.helmRolls.get('Deployment/istio-ingress/istio-ingress'), 2, 'upgraded, then rolled back by helm');
    for (const w of mesh.observed.workloads.filter((x) => x.name !== 'unmeshed')) for (const p of w.pods) assert.equal(p.injectedRevision, OLD.revision, `${w.namespace}/${p.name}`);
    assert.deepEqual(mesh.observed.revisions.map((r) => r.revision), [OLD.revision]);
    assert.deepEqual(mesh.tagWrites, []);
  });

  it('waits for the uninstall-new Job itself, not for istiod to disappear (helm deletes istiod first)', () => {
    const mesh = helmFakeMesh(helmMesh(), { jobOutcome: { 'uninstall-new': 'Running' } });
    const result = walk(makeUpgrade({ ...HELM_SPEC, soak: FAILING_SOAK, rollback: { removeNewRevision: true } }), mesh, {
      errorRatio: (namespaces) => (namespaces.includes('bar') ? 0.5 : 0),
      maxPasses: 200,
      beforePass: (_p, _u, m) => {
        if (m.observed.jobs.some((j) => j.name.includes('-uninstall-new-'))) m.observed = { ...m.observed, revisions: m.observed.revisions.filter((r) => r.revision !== NEW.revision) };
        return undefined;
      },
    });
    assert.equal(result.upgrade.status.phase, 'RollingBack', result.phases.join(' > '));
    assert.match(findCondition(result.upgrade.status.conditions ?? [], 'Reconciling')?.message ?? '', /waiting for Job .*uninstall-new/);
  });

  it('fails with TagReverted, without writing over Helm, when someone points the tag elsewhere after the switch', () => {
    const mesh = helmFakeMesh();
    const result = walk(makeUpgrade({ ...HELM_SPEC, rollback: { automatic: false } }), mesh, {
      beforePass: (_p, upgrade, m) => {
        if (upgrade.status.phase === 'RollingOut') {
          m.observed = { ...m.observed, mutatingWebhooks: m.observed.mutatingWebhooks.map((w) => (w.labels[ISTIO_TAG_LABEL] === 'default' ? { ...ownedTag('default', OLD.revision, NEW_RELEASE) } : w)) };
        }
        return undefined;
      },
    });
    assert.equal(result.upgrade.status.phase, 'Failed');
    assert.equal(result.upgrade.status.failure?.reason, 'TagReverted');
    assert.match(result.upgrade.status.failure?.message ?? '', /release istiod-1-31-0 renders/);
    assert.deepEqual(mesh.tagWrites, []);
  });
});

describe('helm mode: prechecks refuse what Helm mode cannot upgrade, before any command', () => {
  const cases: { name: string; observed: ObservedState; spec?: Partial<IstioUpgradeSpecInput>; reason: string; message: RegExp }[] = [
    { name: 'istioctl-installed old revision', observed: sampleMesh(), reason: 'InstallerMismatch', message: /is not a Helm release of the istiod chart/ },
    {
      name: 'tag made by istioctl tag set, not by the release',
      observed: helmMesh({ mutatingWebhooks: [...helmMesh().mutatingWebhooks.filter((w) => w.labels[ISTIO_TAG_LABEL] === undefined), tagWebhook('default', OLD.revision)] }),
      reason: 'TagNotOwnedByRelease',
      message: /rendered by no Helm release, not by release istiod-1-30-4/,
    },
    {
      name: 'gateway release with no Deployment',
      observed: helmMesh(),
      spec: { ...HELM_SPEC, installer: { mode: 'helm', helm: { repository: REPO, gateways: [{ namespace: 'istio-ingress', release: 'other' }] } } },
      reason: 'GatewayNotFound',
      message: /no Deployment of release other/,
    },
    { name: 'additional tags', observed: helmMesh(), spec: { ...HELM_SPEC, additionalTags: ['prod'], rollout: { waves: [{ name: 'all', tag: 'prod' }] } }, reason: 'InvalidTag', message: /moves spec.tag only/ },
    { name: 'helm image not allowed', observed: helmMesh({ allowedInstallerImages: ['docker.io/istio/istioctl'] }), reason: 'InstallerImageNotAllowed', message: /spec.installer.helm.image/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const mesh = helmFakeMesh(c.observed);
      const result = walk(makeUpgrade(c.spec ?? HELM_SPEC), mesh);
      assert.equal(result.upgrade.status.phase, 'Failed');
      assert.equal(result.upgrade.status.failure?.reason, c.reason);
      assert.match(result.upgrade.status.failure?.message ?? '', c.message);
      assert.deepEqual(mesh.helmRuns, [], 'no helm command ran');
    });
  }
});

describe('helm mode: the plan command', () => {
  it('says helm runs the prechecks and removes the old release, and lists what helm uninstall deletes', () => {
    const upgrade = makeUpgrade(HELM_SPEC);
    const old = helmRevisionState(OLD.revision, OLD.version, OLD_RELEASE);
    const observed = helmMesh({
      workloads: [
        ...helmMesh().workloads,
        { ...workload('istio-system', `istiod-${OLD.revision}`, undefined), labels: old.labels, annotations: old.annotations },
      ],
    });
    const preview = previewPlan(new Draft(upgrade, observed, new Date('2026-11-22T10:00:00.000Z')));
    const text = renderPlanText({ name: 'x', tag: 'default', from: OLD.revision, fromVersion: OLD.version, to: NEW.revision, version: NEW.version, installer: 'helm', plan: preview.plan, refusal: preview.refusal });
    assert.match(text, /Precheck: passed \(the helm --dry-run Jobs run when the upgrade is applied\)/);
    assert.match(text, /Removed at the end \(helm uninstall of the istiod release of 1-30-4\):\n {2}Deployment istio-system\/istiod-1-30-4\n/);
    assert.doesNotMatch(text, /revision-tag/, 'the tag moves to the new release: it is not removed');
  });
});
