// Which API calls each action, the status write and one reconcile pass make, in which order, and how API
// errors are classified: against a recording fake client (sample-controller's expectActions style).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import type { V1ClusterRoleBinding, V1Deployment, V1Job, V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { IstioUpgradeSchema } from '../../../src/api/schema.ts';
import type { InformerHealth } from '../../../src/kube/informer.ts';
import { Reconciler, NotLeaderError } from '../../../src/controller/reconciler.ts';
import type { Action } from '../../../src/core/actions.ts';
import { StalledError, TransientError, WaitingError } from '../../../src/core/errors.ts';
import type { RawUpgrade } from '../../../src/kube/caches.ts';
import { EventRecorder } from '../../../src/kube/events.ts';
import { execute, type ExecutionOutcome } from '../../../src/kube/execute.ts';
import { writeStatus } from '../../../src/kube/status-writer.ts';
import { OperatorMetrics } from '../../../src/runtime/metrics.ts';
import { memoryCaches, type MemoryObjects } from '../../support/memory-caches.ts';
import { RecordingClients, apiError } from '../../support/recording-clients.ts';
import { tagWebhook as tagFixture } from '../../support/fixtures.ts';
import { deploymentKind } from '../../../src/kube/workloads/deployment.ts';
import { toWorkloadFacts } from '../../../src/kube/workloads/workload-kind.ts';

const installer = { namespace: 'istio-upgrade-operator', serviceAccount: 'istio-upgrade-installer', activeDeadlineSeconds: 600 };
const owner = { name: 'up', uid: 'uid-1' };
const MERGE = 'application/merge-patch+json';
const APPLY = 'application/apply-patch+yaml';

async function run(action: Action, setup: (c: RecordingClients) => void = () => undefined, cachedResourceVersion?: string): Promise<{ outcome: ExecutionOutcome | Error; trace: string[]; clients: RecordingClients }> {
  const clients = new RecordingClients();
  setup(clients);
  let outcome: ExecutionOutcome | Error;
  try {
    outcome = await execute({ clients: clients.clients, installer, owner, ...(cachedResourceVersion === undefined ? {} : { cachedResourceVersion: () => cachedResourceVersion }) }, action);
  } catch (error) {
    outcome = error instanceof Error ? error : new Error(String(error));
  }
  return { outcome, trace: clients.trace(), clients };
}

const restart: Action = { type: 'restartWorkload', kind: 'Deployment', namespace: 'bar', name: 'api', stamp: 'uid-1/1-31-0', restartedAt: '2026-11-30T10:00:00Z' };

describe('actions: the API calls each makes, idempotently', () => {
  it('restart: read, then a merge patch conditional on the resourceVersion read', async () => {
    const { outcome, trace, clients } = await run(restart, (c) => c.on('apps.readNamespacedDeployment', () => ({ metadata: { resourceVersion: '42' }, spec: { template: {} } })));
    assert.equal(outcome, 'done');
    assert.deepEqual(trace, ['apps.readNamespacedDeployment bar/api', 'apps.patchNamespacedDeployment bar/api']);
    const patch = clients.calls[1];
    assert.equal(patch?.contentType, MERGE);
    assert.deepEqual(patch.args.body, { metadata: { resourceVersion: '42' }, spec: { template: { metadata: { annotations: { 'istioupgrade.dev/restarted-for': 'uid-1/1-31-0', 'kubectl.kubernetes.io/restartedAt': '2026-11-30T10:00:00Z' } } } } });
  });

  it('restart with the resourceVersion the cache holds: one patch conditional on it, no read', async () => {
    const { outcome, trace, clients } = await run(restart, undefined, '40');
    assert.equal(outcome, 'done');
    assert.deepEqual(trace, ['apps.patchNamespacedDeployment bar/api']);
    assert.deepEqual(clients.calls[0]?.args.body, { metadata: { resourceVersion: '40' }, spec: { template: { metadata: { annotations: { 'istioupgrade.dev/restarted-for': 'uid-1/1-31-0', 'kubectl.kubernetes.io/restartedAt': '2026-11-30T10:00:00Z' } } } } });
  });

  it('restart with a stale cached resourceVersion (409): read, and skipped when the stamp is already there', async () => {
    const { outcome, trace } = await run(
      restart,
      (c) =>
        c.on('apps.patchNamespacedDeployment', () => {
          throw apiError(409);
        }).on('apps.readNamespacedDeployment', () => ({ metadata: { resourceVersion: '42' }, spec: { template: { metadata: { annotations: { 'istioupgrade.dev/restarted-for': 'uid-1/1-31-0' } } } } })),
      '40',
    );
    assert.equal(outcome, 'skipped');
    assert.deepEqual(trace, ['apps.patchNamespacedDeployment bar/api', 'apps.readNamespacedDeployment bar/api']);
  });

  it('restart with a stale cached resourceVersion (409), not yet stamped: read, then patch on the version read', async () => {
    const { outcome, trace, clients } = await run(
      restart,
      (c) =>
        c.on('apps.patchNamespacedDeployment', (_args, n) => {
          if (n === 1) throw apiError(409);
          return {};
        }).on('apps.readNamespacedDeployment', () => ({ metadata: { resourceVersion: '42' }, spec: { template: {} } })),
      '40',
    );
    assert.equal(outcome, 'done');
    assert.deepEqual(trace, ['apps.patchNamespacedDeployment bar/api', 'apps.readNamespacedDeployment bar/api', 'apps.patchNamespacedDeployment bar/api']);
    assert.deepEqual((clients.calls[2]?.args.body as { metadata: unknown }).metadata, { resourceVersion: '42' });
  });

  it('restart with a cached resourceVersion answered 403: Stalled at once, no read', async () => {
    const { outcome, trace } = await run(
      restart,
      (c) =>
        c.on('apps.patchNamespacedDeployment', () => {
          throw apiError(403);
        }),
      '40',
    );
    assert.ok(outcome instanceof StalledError);
    assert.deepEqual(trace, ['apps.patchNamespacedDeployment bar/api']);
  });

  it('restart of a workload already stamped: only the read', async () => {
    const { outcome, trace } = await run(restart, (c) => c.on('apps.readNamespacedDeployment', () => ({ metadata: { resourceVersion: '42' }, spec: { template: { metadata: { annotations: { 'istioupgrade.dev/restarted-for': 'uid-1/1-31-0' } } } } })));
    assert.equal(outcome, 'skipped');
    assert.deepEqual(trace, ['apps.readNamespacedDeployment bar/api']);
  });

  it('restart of an OnDelete DaemonSet goes through its own adapter', async () => {
    const { trace } = await run({ ...restart, kind: 'DaemonSet' }, (c) => c.on('apps.readNamespacedDaemonSet', () => ({ metadata: { resourceVersion: '7' }, spec: { template: {} } })));
    assert.deepEqual(trace, ['apps.readNamespacedDaemonSet bar/api', 'apps.patchNamespacedDaemonSet bar/api']);
  });

  const errors: [string, number, string][] = [
    ['403 needs a person: Stalled Forbidden', 403, 'StalledError:Forbidden'],
    ['422 is Stalled Invalid', 422, 'StalledError:Invalid'],
    ['409 on the conditional patch: transient (the next pass decides again)', 409, 'TransientError'],
    ['500: transient', 500, 'TransientError'],
  ];
  for (const [name, code, expected] of errors) {
    it(`restart, patch answered ${name}`, async () => {
      const { outcome } = await run(restart, (c) =>
        c.on('apps.readNamespacedDeployment', () => ({ metadata: { resourceVersion: '1' }, spec: { template: {} } })).on('apps.patchNamespacedDeployment', () => {
          throw apiError(code);
        }),
      );
      assert.ok(outcome instanceof Error);
      assert.equal(outcome instanceof StalledError ? `StalledError:${outcome.reason}` : outcome.name, expected);
    });
  }

  it('429 with Retry-After backs off at least that long', async () => {
    const { outcome } = await run(restart, (c) =>
      c.on('apps.readNamespacedDeployment', () => {
        throw Object.assign(apiError(429), { headers: { 'retry-after': '7' } });
      }),
    );
    assert.ok(outcome instanceof TransientError);
    assert.equal(outcome.retryAfterMs, 7000);
  });

  const evictions: [string, (() => unknown) | undefined, ExecutionOutcome][] = [
    ['evicted', undefined, 'done'],
    ['refused by a PodDisruptionBudget (429): try again next pass', () => { throw apiError(429); }, 'refused'],
    ['already gone (404)', () => { throw apiError(404); }, 'skipped'],
  ];
  for (const [name, answer, expected] of evictions) {
    it(`evict a pod: ${name}`, async () => {
      const { outcome, trace } = await run({ type: 'evictPod', namespace: 'foo', name: 'agent-0' }, (c) => {
        if (answer !== undefined) c.on('core.createNamespacedPodEviction', answer);
      });
      assert.equal(outcome, expected);
      assert.deepEqual(trace, ['core.createNamespacedPodEviction foo/agent-0']);
    });
  }

  for (const [name, reason, expected] of [
    ['an existing Job (AlreadyExists) is done already', 'AlreadyExists', 'skipped'],
    ['a 409 Conflict is not an existing Job: transient, retried', 'Conflict', 'TransientError'],
  ] as const) {
    it(`installer Job: the overlay ConfigMap first, then the Job; ${name}`, async () => {
      const job: Action = { type: 'runInstallerJob', tool: 'istioctl', purpose: 'install', jobName: 'up-install-1', image: 'i', args: ['install'], overlay: { spec: {} } };
      const { outcome, trace } = await run(job, (c) => c.on('batch.createNamespacedJob', () => { throw apiError(409, 'injected', reason); }));
      assert.equal(outcome instanceof Error ? outcome.name : outcome, expected);
      assert.deepEqual(trace, ['rbac.patchClusterRoleBinding istio-upgrade-installer', 'core.createNamespacedConfigMap istio-upgrade-operator/', 'batch.createNamespacedJob istio-upgrade-operator/']);
    });
  }

  it('installer Job: the binding is server-side applied first, annotated with the Job it is granted for', async () => {
    const job: Action = { type: 'runInstallerJob', tool: 'istioctl', purpose: 'install', jobName: 'up-install-1', image: 'i', args: ['install'], overlay: undefined };
    const { clients } = await run(job);
    const apply = clients.calls[0];
    assert.equal(apply?.method, 'patchClusterRoleBinding');
    assert.equal(apply.contentType, APPLY);
    const body = apply.args.body as { metadata: { annotations: Record<string, string> }; roleRef: { name: string }; subjects: { name: string; namespace: string }[] };
    assert.equal(body.metadata.annotations['istioupgrade.dev/granted-for'], 'up-install-1');
    assert.equal(body.roleRef.name, 'istio-upgrade-installer');
    assert.deepEqual(body.subjects.map((s) => `${s.namespace}/${s.name}`), ['istio-upgrade-operator/istio-upgrade-installer']);
  });

  for (const [name, granted, deleteAnswer, expected, calls] of [
    ['granted for that Job: deleted with the resourceVersion read', 'up-install-1', undefined, 'done', 2],
    ['granted for a newer Job since: kept', 'up-uninstall-1', undefined, 'skipped', 1],
    ['re-granted between the read and the delete (409): kept', 'up-install-1', 409, 'skipped', 2],
    ['gone already (404)', undefined, undefined, 'skipped', 1],
  ] as const) {
    it(`revoke installer access: ${name}`, async () => {
      const { outcome, clients } = await run({ type: 'revokeInstallerAccess', jobName: 'up-install-1' }, (c) => {
        c.on('rbac.readClusterRoleBinding', () => {
          if (granted === undefined) throw apiError(404);
          return { metadata: { name: 'istio-upgrade-installer', resourceVersion: '42', annotations: { 'istioupgrade.dev/granted-for': granted } } };
        });
        if (deleteAnswer !== undefined) c.on('rbac.deleteClusterRoleBinding', () => { throw apiError(deleteAnswer); });
      });
      assert.equal(outcome, expected);
      assert.equal(clients.calls.length, calls);
      const deletion = clients.calls.find((c) => c.method === 'deleteClusterRoleBinding');
      if (deletion !== undefined) assert.deepEqual(deletion.args.body, { preconditions: { resourceVersion: '42' } });
    });
  }

  it('tag webhook: Service, then injector, then validator, each server-side applied', async () => {
    const fixture = tagFixture('default', '1-31-0');
    const { buildTagWebhook } = await import('../../../src/core/tag-webhook.ts');
    const { injectorWebhook } = await import('../../support/fixtures.ts');
    const built = buildTagWebhook({ tag: 'default', revision: '1-31-0', istioNamespace: 'istio-system', canonical: injectorWebhook('1-31-0'), existingValidator: undefined, autoInject: false });
    assert.ok(built.ok && fixture.name === 'istio-revision-tag-default');
    const { trace, clients } = await run({ type: 'applyTagWebhook', tag: 'default', revision: '1-31-0', webhook: built.webhook });
    assert.deepEqual(trace, ['core.patchNamespacedService istio-system/istiod-revision-tag-default', 'admission.patchMutatingWebhookConfiguration istio-revision-tag-default', 'admission.patchValidatingWebhookConfiguration istiod-default-validator']);
    assert.ok(clients.calls.every((c) => c.contentType === APPLY && c.args.fieldManager === 'istio-upgrade-operator' && c.args.force === true));
  });

  it('tag webhook: owner labels that istioctl install left (another field manager) are removed with a merge patch', async () => {
    const { buildTagWebhook } = await import('../../../src/core/tag-webhook.ts');
    const { injectorWebhook } = await import('../../support/fixtures.ts');
    const built = buildTagWebhook({ tag: 'default', revision: '1-31-0', istioNamespace: 'istio-system', canonical: injectorWebhook('1-31-0'), existingValidator: undefined, autoInject: false });
    assert.ok(built.ok);
    const left = { 'operator.istio.io/component': 'Pilot', 'install.operator.istio.io/owning-resource-namespace': 'istio-system', 'istio.io/rev': '1-31-0' };
    const { trace, clients } = await run({ type: 'applyTagWebhook', tag: 'default', revision: '1-31-0', webhook: built.webhook }, (c) =>
      c.on('admission.patchMutatingWebhookConfiguration', () => ({ metadata: { name: 'istio-revision-tag-default', labels: left } })),
    );
    assert.deepEqual(trace, [
      'core.patchNamespacedService istio-system/istiod-revision-tag-default',
      'admission.patchMutatingWebhookConfiguration istio-revision-tag-default',
      'admission.patchMutatingWebhookConfiguration istio-revision-tag-default',
      'admission.patchValidatingWebhookConfiguration istiod-default-validator',
    ]);
    const strip = clients.calls[2];
    assert.notEqual(strip?.contentType, APPLY);
    assert.deepEqual(strip?.args.body, { metadata: { labels: { 'operator.istio.io/component': null, 'install.operator.istio.io/owning-resource-namespace': null } } });
  });

  it('deactivate the non-revisioned injector: read, then a JSON patch (conditional on the resourceVersion) to never-matching selectors; once only', async () => {
    const live = { metadata: { name: 'istio-sidecar-injector', resourceVersion: '9' }, webhooks: [{ name: 'rev.namespace.sidecar-injector.istio.io', clientConfig: {}, namespaceSelector: { matchLabels: { a: 'b' } } }] };
    const first = await run({ type: 'deactivateInjector', name: 'istio-sidecar-injector' }, (c) => c.on('admission.readMutatingWebhookConfiguration', () => structuredClone(live)));
    assert.deepEqual(first.trace, ['admission.readMutatingWebhookConfiguration istio-sidecar-injector', 'admission.patchMutatingWebhookConfiguration istio-sidecar-injector']);
    assert.equal(first.clients.calls[1]?.contentType, 'application/json-patch+json');
    const never = { matchLabels: { 'istio.io/deactivated': 'never-match' } };
    assert.deepEqual(first.clients.calls[1]?.args.body, [
      { op: 'test', path: '/metadata/resourceVersion', value: '9' },
      { op: 'add', path: '/webhooks/0/namespaceSelector', value: never },
      { op: 'add', path: '/webhooks/0/objectSelector', value: never },
    ]);
    const body = { ...live, webhooks: live.webhooks.map((w) => ({ ...w, namespaceSelector: never, objectSelector: never })) };
    const again = await run({ type: 'deactivateInjector', name: 'istio-sidecar-injector' }, (c) => c.on('admission.readMutatingWebhookConfiguration', () => body));
    assert.equal(again.outcome, 'skipped');
    assert.equal(again.trace.length, 1);
  });

  it('deactivate the non-revisioned injector: a failed resourceVersion test (changed since read) is transient, not Invalid', async () => {
    const live = { metadata: { name: 'istio-sidecar-injector', resourceVersion: '9' }, webhooks: [{ name: 'rev.namespace.sidecar-injector.istio.io', clientConfig: {}, namespaceSelector: { matchLabels: { a: 'b' } } }] };
    const { outcome } = await run({ type: 'deactivateInjector', name: 'istio-sidecar-injector' }, (c) =>
      c.on('admission.readMutatingWebhookConfiguration', () => structuredClone(live)).on('admission.patchMutatingWebhookConfiguration', () => {
        throw apiError(422, 'the server rejected our request due to an error in our request: testing value /metadata/resourceVersion failed: test failed');
      }),
    );
    assert.equal(outcome instanceof Error ? outcome.name : outcome, 'TransientError');
  });

  it('label a namespace: one merge patch', async () => {
    const { trace, clients } = await run({ type: 'labelNamespace', name: 'pinned', labels: { 'istio.io/rev': 'default' } });
    assert.deepEqual(trace, ['core.patchNamespace pinned']);
    assert.equal(clients.calls[0]?.contentType, MERGE);
  });
});

describe('the status write', () => {
  it('writes nothing when nothing changed', async () => {
    const c = new RecordingClients();
    assert.equal(await writeStatus(c.clients.custom, 'up', { phase: 'Pending' }, { phase: 'Pending' }), undefined);
    assert.deepEqual(c.trace(), []);
  });

  it('sends only the changed fields in one JSON patch, and returns the new resourceVersion', async () => {
    const c = new RecordingClients().on('custom.patchClusterCustomObjectStatus', () => ({ metadata: { resourceVersion: '77' } }));
    const waves = [{ name: 'rest', state: 'InProgress' as const, namespaces: ['a', 'b'] }];
    assert.equal(await writeStatus(c.clients.custom, 'up', { phase: 'RollingOut', waves, upgraded: '1/2', currentWave: 'rest' }, { phase: 'RollingOut', waves, upgraded: '2/2' }), '77');
    assert.deepEqual(c.trace(), ['custom.patchClusterCustomObjectStatus up']);
    assert.equal(c.calls[0]?.contentType, 'application/json-patch+json');
    assert.deepEqual(c.calls[0]?.args.body, [
      { op: 'add', path: '/status/upgraded', value: '2/2' },
      { op: 'remove', path: '/status/currentWave' },
    ]);
  });

  it('replaces the whole status when there was none', async () => {
    const c = new RecordingClients().on('custom.patchClusterCustomObjectStatus', () => ({ metadata: { resourceVersion: '77' } }));
    await writeStatus(c.clients.custom, 'up', {}, { phase: 'Pending' });
    assert.deepEqual(c.calls[0]?.args.body, [{ op: 'add', path: '/status', value: { phase: 'Pending' } }]);
  });

  it('a field patch that does not apply (422) is retried once as the whole status', async () => {
    const c = new RecordingClients().on('custom.patchClusterCustomObjectStatus', (_args, n) => {
      if (n === 1) throw apiError(422);
      return { metadata: { resourceVersion: '79' } };
    });
    assert.equal(await writeStatus(c.clients.custom, 'up', { phase: 'Pending', currentWave: 'x' }, { phase: 'Prechecking' }), '79');
    assert.deepEqual(c.calls.map((x) => x.args.body), [
      [{ op: 'add', path: '/status/phase', value: 'Prechecking' }, { op: 'remove', path: '/status/currentWave' }],
      [{ op: 'add', path: '/status', value: { phase: 'Prechecking' } }],
    ]);
  });

  it('a 409 re-reads the object and retries once; a second 409 backs off', async () => {
    const once = new RecordingClients().on('custom.patchClusterCustomObjectStatus', (_args, n) => {
      if (n === 1) throw apiError(409);
      return { metadata: { resourceVersion: '78' } };
    });
    assert.equal(await writeStatus(once.clients.custom, 'up', {}, { phase: 'Pending' }), '78');
    assert.deepEqual(once.trace(), ['custom.patchClusterCustomObjectStatus up', 'custom.getClusterCustomObject up', 'custom.patchClusterCustomObjectStatus up']);
    const twice = new RecordingClients().on('custom.patchClusterCustomObjectStatus', () => {
      throw apiError(409);
    });
    await assert.rejects(writeStatus(twice.clients.custom, 'up', {}, { phase: 'Pending' }), TransientError);
    assert.equal(twice.calls.length, 3);
  });
});

const OLD_ISTIOD: V1Deployment = {
  metadata: { name: 'istiod-1-30-4', namespace: 'istio-system', generation: 1, labels: { app: 'istiod', 'istio.io/rev': '1-30-4' } },
  spec: { selector: {}, template: { spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.30.4' }] } } },
  status: { observedGeneration: 1, readyReplicas: 1, availableReplicas: 1, replicas: 1, updatedReplicas: 1 },
};

function rawWebhook(config: ReturnType<typeof tagFixture>): V1MutatingWebhookConfiguration {
  // The fixture's selectors are plain data of the same shape the API returns.
  return JSON.parse(JSON.stringify({ metadata: { name: config.name, labels: config.labels }, webhooks: config.webhooks.map((w) => ({ ...w, sideEffects: 'None', admissionReviewVersions: ['v1'] })) })) as V1MutatingWebhookConfiguration;
}

function reconciler(clients: RecordingClients, options: { withMesh?: boolean; unsynced?: InformerHealth[]; leading?: boolean; storedSpec?: object; storedStatus?: object; installer?: Pick<MemoryObjects, 'jobs' | 'installerBindings'> } = {}): Reconciler {
  const upgrade = IstioUpgradeSchema.parse({ apiVersion: 'istioupgrade.dev/v1alpha1', kind: 'IstioUpgrade', metadata: { name: 'up', uid: 'uid-1', creationTimestamp: '2026-11-30T10:00:00Z' }, spec: { version: '1.31.0' } });
  // As the informer holds it: JSON from the API server (creationTimestamp a string).
  const raw = JSON.parse(JSON.stringify({ ...upgrade, metadata: { ...upgrade.metadata, resourceVersion: '5' }, ...(options.storedSpec === undefined ? {} : { spec: options.storedSpec }), ...(options.storedStatus === undefined ? {} : { status: options.storedStatus }) })) as RawUpgrade;
  const caches = memoryCaches({ ...(options.withMesh === true ? { upgrades: [raw], deployments: [OLD_ISTIOD], mutatingWebhooks: [rawWebhook(tagFixture('default', '1-30-4'))] } : { upgrades: [raw] }), ...options.installer });
  return new Reconciler({
    clients: clients.clients,
    caches,
    unsyncedCaches: () => options.unsynced ?? [],
    observeContext: { caches, istioNamespace: 'istio-system', installerNamespace: 'istio-upgrade-operator', kubernetesVersion: 'v1.34.10' },
    installer,
    events: new EventRecorder(clients.clients.core, 'test'),
    metrics: new OperatorMetrics(false),
    log: pino({ level: 'silent' }),
    clock: () => new Date('2026-11-30T10:00:00Z'),
    ...(options.leading === undefined ? {} : { stillLeading: () => options.leading ?? true }),
  });
}

describe('one reconcile pass: one status write on every path', () => {
  it('a refused precheck: the Events, then one status write', async () => {
    const c = new RecordingClients();
    await reconciler(c).reconcile('up');
    assert.deepEqual(c.trace(), ['core.createNamespacedEvent default/', 'core.createNamespacedEvent default/', 'custom.patchClusterCustomObjectStatus up']);
  });

  it('a second pass before the informer has the written status plans from what was written, not from the cached object again', async () => {
    const c = new RecordingClients();
    const r = reconciler(c);
    await r.reconcile('up');
    await r.reconcile('up');
    // The first pass ended Failed (refused precheck): the second one finds it terminal and does nothing.
    assert.deepEqual(c.trace(), ['core.createNamespacedEvent default/', 'core.createNamespacedEvent default/', 'custom.patchClusterCustomObjectStatus up']);
  });

  it('an action that fails transiently: the error is folded into the one status write, then rethrown', async () => {
    const c = new RecordingClients().on('batch.createNamespacedJob', () => {
      throw apiError(500);
    });
    await assert.rejects(reconciler(c, { withMesh: true }).reconcile('up'), TransientError);
    assert.deepEqual(c.trace().filter((t) => !t.startsWith('core.createNamespacedEvent')), ['rbac.patchClusterRoleBinding istio-upgrade-installer', 'batch.createNamespacedJob istio-upgrade-operator/', 'custom.patchClusterCustomObjectStatus up']);
    const body = c.calls.find((x) => x.method === 'patchClusterCustomObjectStatus')?.args.body as { value: { phase: string; conditions: { type: string; reason: string; status: string }[] } }[];
    const status = body[0]?.value;
    assert.equal(status?.phase, 'Prechecking', 'the plan status is kept');
    assert.equal(status.conditions.find((x) => x.type === 'Reconciling')?.reason, 'RetryingAfterError');
    assert.equal(status.conditions.find((x) => x.type === 'Stalled')?.status, 'False', 'a transient error is not a stall');
  });

  const down = (failingForMs: number, lastStatusCode: number | undefined): InformerHealth => ({ name: 'pods', up: false, lastError: `HTTP ${lastStatusCode ?? '-'}`, lastStatusCode, lastSyncMs: undefined, failingForMs, lists: 1, watches: 0 });
  for (const [name, health, reason, stalled] of [
    ['failing for 5s (500s): a quiet retry, not a stall', down(5_000, 500), 'RetryingAfterError', 'False'],
    ['failing for over a minute: WatchFailed, Stalled', down(61_000, 500), 'WatchFailed', 'True'],
    ['forbidden (RBAC) at once: WatchFailed, Stalled', down(1_000, 403), 'WatchFailed', 'True'],
  ] as const) {
    it(`unsynced caches ${name}: no action, one status write, then a Waiting requeue`, async () => {
      const c = new RecordingClients();
      await assert.rejects(reconciler(c, { unsynced: [health] }).reconcile('up'), WaitingError);
      assert.deepEqual(c.trace(), ['custom.patchClusterCustomObjectStatus up']);
      const body = c.calls[0]?.args.body as { value: { conditions: { type: string; reason: string; status: string }[] } }[];
      const conditions = body[0]?.value.conditions ?? [];
      assert.equal(conditions.find((x) => x.type === 'Stalled')?.status, stalled);
      assert.ok(conditions.some((x) => x.reason === reason), JSON.stringify(conditions));
    });
  }

  it('a stored spec past the operator\'s bounds (a CRD older than the operator): Stalled InvalidSpec naming the field, phase kept, nothing done', async () => {
    const c = new RecordingClients();
    const result = await reconciler(c, { withMesh: true, storedSpec: { version: '1.31.0', uninstall: { gracePeriod: '10000h' } }, storedStatus: { phase: 'RollingOut' } }).reconcile('up');
    assert.equal(result.requeueAfterMs, undefined);
    assert.deepEqual(c.trace(), ['core.createNamespacedEvent default/', 'custom.patchClusterCustomObjectStatus up']);
    const body = c.calls.find((x) => x.method === 'patchClusterCustomObjectStatus')?.args.body as { path: string; value?: unknown }[];
    assert.ok(!body.some((op) => op.path === '/status/phase' || op.path === '/status'), `the phase is kept: ${JSON.stringify(body)}`);
    const conditions = body.find((op) => op.path === '/status/conditions')?.value as { type: string; reason: string; status: string; message: string }[];
    const stalled = conditions.find((x) => x.type === 'Stalled');
    assert.equal(stalled?.reason, 'InvalidSpec');
    assert.match(stalled.message, /uninstall\.gracePeriod: must be at most 720h/);
  });

  // The last Job may finish after the upgrade ended: its binding is still revoked, and nothing else is done.
  const uninstallJob = (condition: string | undefined): V1Job => ({
    metadata: { name: 'up-uninstall-uid1', namespace: 'istio-upgrade-operator', labels: { 'istioupgrade.dev/upgrade': 'uid-1' } },
    status: condition === undefined ? { active: 1 } : { conditions: [{ type: condition, status: 'True' }], completionTime: new Date('2026-11-30T09:59:00Z') },
  });
  const binding = (grantedFor: string): V1ClusterRoleBinding => ({
    metadata: { name: 'istio-upgrade-installer', resourceVersion: '3', annotations: { 'istioupgrade.dev/granted-for': grantedFor } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'istio-upgrade-installer' },
  });
  for (const [name, job, expected] of [
    ['its Job finished after it ended: the binding is revoked, no status write', uninstallJob('Complete'), ['rbac.readClusterRoleBinding istio-upgrade-installer', 'rbac.deleteClusterRoleBinding istio-upgrade-installer']],
    ['its Job still runs: nothing yet', uninstallJob(undefined), []],
  ] as const) {
    it(`a terminal upgrade granted the installer binding, ${name}`, async () => {
      const c = new RecordingClients().on('rbac.readClusterRoleBinding', () => binding('up-uninstall-uid1'));
      const result = await reconciler(c, { withMesh: true, storedStatus: { phase: 'Succeeded' }, installer: { jobs: [job], installerBindings: [binding('up-uninstall-uid1')] } }).reconcile('up');
      assert.equal(result.requeueAfterMs, undefined);
      assert.deepEqual(c.trace(), expected);
    });
  }

  it('a stored object whose status cannot be read either: nothing is written', async () => {
    const c = new RecordingClients();
    await reconciler(c, { storedSpec: { version: 'x' }, storedStatus: { phase: 'Nowhere' } }).reconcile('up');
    assert.deepEqual(c.trace(), []);
  });

  it('a replica that lost its lease writes nothing', async () => {
    const c = new RecordingClients();
    await assert.rejects(reconciler(c, { withMesh: true, leading: false }).reconcile('up'), NotLeaderError);
    assert.deepEqual(c.trace(), []);
  });
});

describe('progress-only status writes: the worker does not wait for them', () => {
  const precheckJob: V1Job = { metadata: { name: 'up-precheck-uid1', namespace: 'istio-upgrade-operator', labels: { 'istioupgrade.dev/upgrade': 'uid-1' } }, status: { active: 1 } };

  /** The status the first pass writes, stored with other counters: the next pass changes only counters and messages. */
  async function storedWithOtherCounters(): Promise<object> {
    const c = new RecordingClients();
    await reconciler(c, { withMesh: true }).reconcile('up');
    const body = c.calls.find((x) => x.method === 'patchClusterCustomObjectStatus')?.args.body as { value: Record<string, unknown> }[];
    return { ...body[0]?.value, workloads: { total: 9, upgraded: 3, pending: 6, skipped: 0 }, upgraded: '3/9' };
  }

  /** Status PATCHes answered only when the test says so. */
  function heldAnswers(c: RecordingClients): { release: () => void } {
    let release = (): void => undefined;
    const answered = new Promise<void>((resolve) => {
      release = resolve;
    });
    c.on('custom.patchClusterCustomObjectStatus', () => answered.then(() => ({ metadata: { resourceVersion: '6' } })));
    return { release: () => { release(); } };
  }

  it('the pass returns while the API server has not answered the write; the write lands afterwards', async () => {
    const c = new RecordingClients();
    const held = heldAnswers(c);
    const r = reconciler(c, { withMesh: true, storedStatus: await storedWithOtherCounters(), installer: { jobs: [precheckJob], installerBindings: [] } });
    const pass = r.reconcile('up');
    assert.equal(await Promise.race([pass.then(() => 'returned'), sleep(500).then(() => 'waiting for the write')]), 'returned');
    assert.deepEqual(c.trace(), ['custom.patchClusterCustomObjectStatus up']);
    const body = c.calls[0]?.args.body as { path: string }[];
    assert.deepEqual(body.map((op) => op.path).sort(), ['/status/conditions', '/status/upgraded', '/status/workloads']);
    const { progressWrite } = await pass;
    held.release();
    assert.equal(await progressWrite, true);
  });

  it('the next write of the upgrade waits for the one under way, and is a change from what that one wrote', async () => {
    const c = new RecordingClients();
    const held = heldAnswers(c);
    const unsynced: InformerHealth[] = [];
    const r = reconciler(c, { withMesh: true, unsynced, storedStatus: await storedWithOtherCounters(), installer: { jobs: [precheckJob], installerBindings: [] } });
    const first = await r.reconcile('up');
    // A change that is written at once (a condition's reason): the informer's cache still has the old counters.
    unsynced.push({ name: 'pods', up: false, lastError: 'HTTP 500', lastStatusCode: 500, lastSyncMs: undefined, failingForMs: 1_000, lists: 1, watches: 0 });
    const second = r.reconcile('up').then(() => 'ended', (e: unknown) => (e instanceof WaitingError ? 'waiting' : String(e)));
    await sleep(100);
    assert.equal(c.calls.length, 1, 'not sent while the first write is unanswered');
    held.release();
    assert.equal(await first.progressWrite, true);
    assert.equal(await second, 'waiting');
    assert.equal(c.calls.length, 2);
    const body = c.calls[1]?.args.body as { path: string }[];
    assert.deepEqual(body.map((op) => op.path), ['/status/conditions'], 'the counters the first write stored are not sent again');
  });

  it('a write that fails: progressWrite is false and the next pass writes at once, not held back', async () => {
    const c = new RecordingClients().on('custom.patchClusterCustomObjectStatus', (_args, n) => {
      if (n === 1) throw apiError(500);
      return { metadata: { resourceVersion: '7' } };
    });
    const r = reconciler(c, { withMesh: true, storedStatus: await storedWithOtherCounters(), installer: { jobs: [precheckJob], installerBindings: [] } });
    assert.equal(await (await r.reconcile('up')).progressWrite, false);
    const again = await r.reconcile('up');
    assert.equal(c.calls.length, 2);
    assert.equal(await again.progressWrite, true);
  });
});

describe('restarts that end a pass: the worker does not wait for them', () => {
  const NEW_ISTIOD = JSON.parse(JSON.stringify(OLD_ISTIOD).replaceAll('1-30-4', '1-31-0').replaceAll('1.30.4', '1.31.0')) as V1Deployment;
  const app = (resourceVersion: string, annotations: Record<string, string> = {}): V1Deployment => ({
    metadata: { name: 'api', namespace: 'bar', resourceVersion, generation: 1 },
    spec: { selector: {}, replicas: 1, template: { metadata: { labels: { app: 'api' }, annotations }, spec: { containers: [{ name: 'api', image: 'app:1' }] } } },
    status: { observedGeneration: 1, readyReplicas: 1, availableReplicas: 1, replicas: 1, updatedReplicas: 1 },
  });

  /** An upgrade rolling out namespace bar, whose Deployment api is still on the old revision; `cached` is what the informer holds. */
  function rollingOut(c: RecordingClients, cached: { deployment: V1Deployment }): Reconciler {
    const upgrade = IstioUpgradeSchema.parse({ apiVersion: 'istioupgrade.dev/v1alpha1', kind: 'IstioUpgrade', metadata: { name: 'up', uid: 'uid-1', creationTimestamp: '2026-11-30T10:00:00Z' }, spec: { version: '1.31.0' } });
    const status = { phase: 'RollingOut', fromRevision: '1-30-4', toRevision: '1-31-0', fromVersion: '1.30.4', currentWave: 'all', waves: [{ name: 'all', state: 'InProgress', namespaces: ['bar'], startedAt: '2026-11-30T09:59:00Z' }] };
    const raw = JSON.parse(JSON.stringify({ ...upgrade, metadata: { ...upgrade.metadata, resourceVersion: '5' }, status })) as RawUpgrade;
    const base = memoryCaches({ upgrades: [raw], deployments: [OLD_ISTIOD, NEW_ISTIOD], namespaces: [{ metadata: { name: 'bar', labels: { 'istio.io/rev': 'default' } } }], mutatingWebhooks: [rawWebhook(tagFixture('default', '1-31-0'))] });
    const [istiods] = base.workloads;
    // The app's Deployment as the informer holds it at each moment (its resourceVersion included).
    const caches = {
      ...base,
      workloads: [
        {
          kind: 'Deployment' as const,
          informer: undefined,
          facts: (ns?: string) => [...(istiods?.facts(ns) ?? []), ...(ns === undefined || ns === 'bar' ? [toWorkloadFacts(deploymentKind, cached.deployment)] : [])],
          resourceVersion: (ns: string, name: string) => (ns === 'bar' && name === 'api' ? cached.deployment.metadata?.resourceVersion : undefined),
        },
      ],
    };
    return new Reconciler({ clients: c.clients, caches, unsyncedCaches: () => [], observeContext: { caches, istioNamespace: 'istio-system', installerNamespace: 'istio-upgrade-operator', kubernetesVersion: 'v1.34.10' }, installer, events: new EventRecorder(c.clients.core, 'test'), metrics: new OperatorMetrics(false), log: pino({ level: 'silent' }), clock: () => new Date('2026-11-30T10:00:00Z') });
  }

  /** Deployment PATCHes answered (or failed, `fail` of the call number) only when the test releases them. */
  function heldRestarts(c: RecordingClients, fail: (call: number) => boolean = () => false): { release: () => void } {
    let release = (): void => undefined;
    const answered = new Promise<void>((resolve) => {
      release = resolve;
    });
    c.on('apps.patchNamespacedDeployment', (_args, n) => answered.then(() => {
      if (fail(n)) throw apiError(500);
      return { metadata: { resourceVersion: '12' } };
    }));
    return { release: () => { release(); } };
  }

  const patches = (c: RecordingClients): string[] => c.trace().filter((t) => t.startsWith('apps.'));

  it('the pass returns while the PATCH is unanswered; a pass before the cache shows it does not send it again; once seen, nothing more', { timeout: 5_000 }, async () => {
    const c = new RecordingClients();
    const held = heldRestarts(c);
    const cached = { deployment: app('11') };
    const r = rollingOut(c, cached);
    const first = r.reconcile('up');
    assert.equal(await Promise.race([first.then(() => 'returned'), sleep(500).then(() => 'waiting for the restart')]), 'returned');
    assert.deepEqual(patches(c), ['apps.patchNamespacedDeployment bar/api'], 'one conditional PATCH on the cached resourceVersion, no read');
    await r.reconcile('up');
    assert.equal(patches(c).length, 1, 'not sent again while under way');
    held.release();
    assert.equal(await (await first).restarts, true);
    await r.reconcile('up');
    assert.equal(patches(c).length, 1, 'answered, but the cache still holds the version it was sent on: not sent again');
    cached.deployment = app('12', { 'istioupgrade.dev/restarted-for': 'uid-1/1-31-0', 'kubectl.kubernetes.io/restartedAt': '2026-11-30T10:00:00.000Z' });
    const seen = await r.reconcile('up');
    assert.equal(seen.restarts, undefined);
    assert.equal(patches(c).length, 1, 'the cache shows the stamp: the planner plans no restart');
  });

  it('a restart that fails: restarts is false, and the next pass waits for its retry, folds the error and rethrows it', { timeout: 5_000 }, async () => {
    const c = new RecordingClients();
    const held = heldRestarts(c, (n) => n <= 2);
    const r = rollingOut(c, { deployment: app('11') });
    const first = await r.reconcile('up');
    held.release();
    assert.equal(await first.restarts, false);
    await assert.rejects(r.reconcile('up'), TransientError);
    assert.deepEqual(patches(c), ['apps.patchNamespacedDeployment bar/api', 'apps.patchNamespacedDeployment bar/api']);
    const lastStatus = c.calls.filter((x) => x.method === 'patchClusterCustomObjectStatus').at(-1)?.args.body as { path: string; value: unknown }[];
    const conditions = lastStatus.find((op) => op.path === '/status/conditions')?.value as { type: string; reason: string }[] | undefined;
    assert.equal(conditions?.find((x) => x.type === 'Reconciling')?.reason, 'RetryingAfterError', JSON.stringify(lastStatus));
    const third = await r.reconcile('up');
    assert.equal(third.restarts, undefined, 'a retry that is awaited is not also left running');
    assert.equal(patches(c).length, 3);
    const fourth = await r.reconcile('up');
    assert.ok(fourth.restarts !== undefined, 'after a pass whose restarts went well, they run in the background again');
    assert.equal(await fourth.restarts, true);
  });
});
