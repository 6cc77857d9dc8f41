// Smoke test of the hermetic test cluster (issue 3): everything the operator relies on, for real. A real
// `istioctl install` runs as a Job (executed by the node agent as its ServiceAccount), the real istiod injects a
// sidecar through the `default` revision tag, an `istioctl x precheck` Job completes, and Prometheus serves the
// exporter's `istio_requests_total`. Runs inside the cluster's network namespace (npm test there).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AdmissionregistrationV1Api, ApiException, AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { V1Container, V1Job, V1Pod } from '@kubernetes/client-node';
import { clusterInfo, ensureClusterUp, insideNetns } from '../../hack/cluster/cluster.ts';
import type { ClusterInfo } from '../../hack/cluster/cluster.ts';
import {
  DEFAULT_TAG,
  DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE,
  ISTIO_PROXY_CONTAINER,
  ISTIO_REV_LABEL,
  PURPOSE_LABEL,
  SIDECAR_STATUS_ANNOTATION,
} from '../../src/api/constants.ts';

const run = promisify(execFile);
const id = randomBytes(3).toString('hex');
const jobNamespace = `smoke-installer-${id}`;
const appNamespace = `smoke-app-${id}`;
const installerAccount = 'istio-installer';
const installerBinding = `smoke-installer-${id}`;

let info: ClusterInfo;
let core: CoreV1Api;
let apps: AppsV1Api;
let batch: BatchV1Api;
let rbac: RbacAuthorizationV1Api;
let admission: AdmissionregistrationV1Api;
/** Set once `before` has created the installer account: only then is there anything to clean up. */
let connected = false;
/** Whether this test installed the revision (and so must uninstall it): a re-run on a live cluster may find it. */
let installedHere = false;
/** The revision the `default` tag pointed to before this test (none: the tag did not exist), restored afterwards. */
let previousDefaultRevision: string | undefined;
let tagMoved = false;

describe('hermetic cluster smoke test', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    const netns = clusterInfo().netns;
    assert.ok(insideNetns(netns), `run inside the cluster's network namespace: npm run cluster -- exec -- npm test (${netns})`);
    info = await ensureClusterUp();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(info.kubeconfigPath);
    core = kubeConfig.makeApiClient(CoreV1Api);
    apps = kubeConfig.makeApiClient(AppsV1Api);
    batch = kubeConfig.makeApiClient(BatchV1Api);
    rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    connected = true;
    await createInstallerAccount();
  });

  after(async () => {
    await cleanUp();
  });

  it('installs the old Istio with a real `istioctl install` Job, and its istiod becomes Ready', { timeout: 10 * 60_000 }, async () => {
    const { istioOld, istioOldRevision: revision } = info.versions;
    installedHere = !(await exists(() => apps.readNamespacedDeployment({ name: `istiod-${revision}`, namespace: ISTIO_NAMESPACE })));
    previousDefaultRevision = await tagRevision(DEFAULT_TAG);
    // The minimal profile, like the harness: the default profile would add an ingress gateway of this revision
    // to istio-system that `istioctl uninstall --revision` deletes, which later upgrades rightly refuse to remove.
    const job = await runIstioctlJob('install', istioOld, ['install', '--set', `revision=${revision}`, '--set', 'profile=minimal', '-y']);
    assert.equal(jobOutcome(job), 'Complete', await jobReport(job));

    const deployment = await apps.readNamespacedDeployment({ name: `istiod-${revision}`, namespace: ISTIO_NAMESPACE });
    assert.equal(deployment.metadata?.labels?.[ISTIO_REV_LABEL], revision);
    assert.ok((deployment.status?.readyReplicas ?? 0) >= 1, `istiod-${revision} has no ready replica: ${JSON.stringify(deployment.status)}`);
  });

  it('injects the old sidecar through the `default` tag, by the real istiod', { timeout: 3 * 60_000 }, async () => {
    const { istioOld, istioOldRevision: revision } = info.versions;
    tagMoved = true;
    await istioctl(istioOld, ['tag', 'set', DEFAULT_TAG, '--revision', revision, '--overwrite']);
    // istio.io/rev=default matches only the tag's webhook (istio-revision-tag-default), not istio-sidecar-injector-<rev>.
    await core.createNamespace({ body: { metadata: { name: appNamespace, labels: { [ISTIO_REV_LABEL]: DEFAULT_TAG } } } });
    await apps.createNamespacedDeployment({
      namespace: appNamespace,
      body: {
        metadata: { name: 'smoke-app' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'smoke-app' } },
          template: {
            metadata: { labels: { app: 'smoke-app' } },
            spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 8080 }] }] },
          },
        },
      },
    });

    // The ReplicaSet controller retries a pod the webhook rejected (e.g. before istiod patched the tag's caBundle).
    const pod = await waitFor('a pod of smoke-app', 120_000, async () => {
      const pods = await core.listNamespacedPod({ namespace: appNamespace, labelSelector: 'app=smoke-app' });
      return pods.items[0];
    });
    const proxy = sidecar(pod);
    assert.ok(proxy, `no ${ISTIO_PROXY_CONTAINER} container in ${JSON.stringify({ containers: names(pod.spec?.containers), initContainers: names(pod.spec?.initContainers) })}`);
    assert.ok(proxy.image?.endsWith(`:${istioOld}`), `${ISTIO_PROXY_CONTAINER} image ${proxy.image ?? ''} is not version ${istioOld}`);
    const status = pod.metadata?.annotations?.[SIDECAR_STATUS_ANNOTATION] ?? '';
    assert.ok(status.includes(`"revision":"${revision}"`), `${SIDECAR_STATUS_ANNOTATION} is ${JSON.stringify(status)}`);
  });

  it('runs an `istioctl x precheck` Job to completion', { timeout: 5 * 60_000 }, async () => {
    const { istioNew, istioNewRevision } = info.versions;
    const job = await runIstioctlJob('precheck', istioNew, ['x', 'precheck', '--revision', istioNewRevision]);
    assert.equal(jobOutcome(job), 'Complete', await jobReport(job));
  });

  it('serves istio_requests_total from Prometheus', { timeout: 60_000 }, async () => {
    const prometheus = process.env.PROMETHEUS_URL ?? info.prometheusUrl;
    const series = await waitFor('istio_requests_total series in Prometheus', 30_000, async () => {
      const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent('istio_requests_total')}`);
      assert.equal(response.status, 200, `Prometheus answered ${response.status}`);
      const body = (await response.json()) as { status: string; data: { result: unknown[] } };
      assert.equal(body.status, 'success');
      return body.data.result.length > 0 ? body.data.result : undefined;
    });
    assert.ok(series.length > 0);
  });
});

async function createInstallerAccount(): Promise<void> {
  await core.createNamespace({ body: { metadata: { name: jobNamespace } } });
  await core.createNamespacedServiceAccount({ namespace: jobNamespace, body: { metadata: { name: installerAccount } } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: installerBinding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: installerAccount, namespace: jobNamespace }],
    },
  });
}

/** An istioctl Job as the operator creates it; resolves with the finished Job. */
async function runIstioctlJob(purpose: string, version: string, args: string[]): Promise<V1Job> {
  const name = `${purpose}-${id}`;
  const labels = { [PURPOSE_LABEL]: purpose };
  await batch.createNamespacedJob({
    namespace: jobNamespace,
    body: {
      metadata: { name, labels },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: installerAccount,
            restartPolicy: 'Never',
            containers: [{ name: 'istioctl', image: `${info.versions.istioHub}/istioctl:${version}`, args }],
          },
        },
      },
    },
  });
  return waitFor(`Job ${name} to finish`, 9 * 60_000, async () => {
    const job = await batch.readNamespacedJob({ name, namespace: jobNamespace });
    return jobOutcome(job) === undefined ? undefined : job;
  });
}

function jobOutcome(job: V1Job): 'Complete' | 'Failed' | undefined {
  const done = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return done?.type === 'Complete' ? 'Complete' : done === undefined ? undefined : 'Failed';
}

/** What a failed Job's pods reported (their termination messages hold istioctl's last output lines). */
async function jobReport(job: V1Job): Promise<string> {
  const pods = await core.listNamespacedPod({ namespace: jobNamespace, labelSelector: `job-name=${job.metadata?.name ?? ''}` });
  const states = pods.items.map((p) => ({ pod: p.metadata?.name, phase: p.status?.phase, state: p.status?.containerStatuses?.[0]?.state }));
  return `Job ${job.metadata?.name ?? ''}: ${JSON.stringify(job.status?.conditions)}\n${JSON.stringify(states, null, 2)}`;
}

/** istioctl of `version`, run here with the admin kubeconfig (for steps the operator would not do in a Job). */
async function istioctl(version: string, args: string[]): Promise<void> {
  const binary = join(dirname(info.binDirs.istioOld), `istio-${version}`, 'istioctl');
  await run(binary, [...args, '--kubeconfig', info.kubeconfigPath], { timeout: 120_000 });
}

function sidecar(pod: V1Pod): V1Container | undefined {
  // Native sidecars (Istio's default on Kubernetes >= 1.29) are init containers with restartPolicy Always.
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === ISTIO_PROXY_CONTAINER);
}

function names(containers: V1Container[] | undefined): string[] {
  return (containers ?? []).map((c) => c.name);
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** The revision a tag's webhook points to, if the tag exists. */
async function tagRevision(tag: string): Promise<string | undefined> {
  try {
    const webhook = await admission.readMutatingWebhookConfiguration({ name: `istio-revision-tag-${tag}` });
    return webhook.metadata?.labels?.[ISTIO_REV_LABEL];
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return false;
    throw err;
  }
}

/** Leaves the cluster as found: namespaces and binding removed, the `default` tag restored, the revision uninstalled if
 * this test installed it. */
async function cleanUp(): Promise<void> {
  if (!connected) return;
  const ignoreMissing = (err: unknown): void => {
    if (!(err instanceof ApiException && err.code === 404)) throw err;
  };
  await core.deleteNamespace({ name: appNamespace }).catch(ignoreMissing);
  await core.deleteNamespace({ name: jobNamespace }).catch(ignoreMissing);
  await rbac.deleteClusterRoleBinding({ name: installerBinding }).catch(ignoreMissing);
  const { istioOld, istioOldRevision } = info.versions;
  const previous = previousDefaultRevision;
  if (tagMoved && previous === undefined) await istioctl(istioOld, ['tag', 'remove', DEFAULT_TAG, '-y']);
  if (tagMoved && previous !== undefined && previous !== istioOldRevision) {
    await istioctl(istioOld, ['tag', 'set', DEFAULT_TAG, '--revision', previous, '--overwrite']);
  }
  if (installedHere) await istioctl(istioOld, ['uninstall', '--revision', istioOldRevision, '-y']);
}
