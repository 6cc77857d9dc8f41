// The Helm side of the hermetic cluster: the chart repository of both pinned Istio versions that the harness serves
// inside the network namespace (IUO_CHART_REPO), read with the helm built by hack/build; and Helm Job pods, which the
// node agent runs with that helm as the pod's ServiceAccount (image docker.io/alpine/helm:<HELM_VERSION>).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { readVersions } from '../../hack/cluster/cluster.ts';
import { connect, ignoreNotFound, waitFor, type Kube } from '../../hack/e2e/kube.ts';

const run = promisify(execFile);
/** The pinned versions, known while the tests are declared (before `connect`). */
const VERSIONS = readVersions();

interface Doc {
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
}

describe('end to end: Helm chart repository and Helm Job pods', { timeout: 10 * 60_000 }, () => {
  let kube: Kube;
  let repo: string;
  let helmHome: string;
  const suffix = Math.random().toString(36).slice(2, 7);
  const namespace = `helm-job-${suffix}`;

  /** The helm hack/build built (bin dir name helm-<HELM_VERSION>, as istioctl-<version>), with a private HELM_* home. */
  async function helm(args: string[]): Promise<string> {
    const env = { ...process.env, ...kube.info.env, HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_DATA_HOME: join(helmHome, 'data') };
    const { stdout } = await run(`helm-${kube.info.versions.helm}`, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return stdout;
  }

  before(async () => {
    kube = await connect();
    repo = kube.info.env['IUO_CHART_REPO'] ?? '';
    helmHome = mkdtempSync(join(tmpdir(), 'iuo-helm-test-'));
  });
  after(async () => {
    rmSync(helmHome, { recursive: true, force: true });
    await ignoreNotFound(() => kube.core.deleteNamespace({ name: namespace }));
    await waitFor(`namespace ${namespace} to be deleted`, async () => !(await namespaceExists(kube, namespace)), 90_000, 1000).catch((err: unknown) => {
      console.error(`cleanup: ${String(err)}`);
    });
  });

  it('the repository URL is a cluster address inside the namespace, known to tests and `cluster exec`', () => {
    assert.equal(repo, kube.info.chartRepoUrl);
    assert.equal(repo, `http://${kube.info.nodeIp}:8879/`);
    assert.equal(process.env['IUO_CHART_REPO'], repo, 'cluster exec / npm test export IUO_CHART_REPO');
  });

  it('the helm binary reports the pinned version', async () => {
    assert.match(await helm(['version']), new RegExp(`Version:"${kube.info.versions.helm.replaceAll('.', '\\.')}"`));
  });

  for (const version of [VERSIONS.istioOld, VERSIONS.istioNew]) {
    it(`serves base, istiod and gateway ${version} (chart version = appVersion = the Istio version)`, async () => {
      for (const chart of ['base', 'istiod', 'gateway']) {
        const meta = yaml.load(await helm(['show', 'chart', chart, '--repo', repo, '--version', version])) as { name: string; version: string; appVersion: string };
        assert.deepEqual({ name: meta.name, version: meta.version, appVersion: meta.appVersion }, { name: chart, version, appVersion: version });
      }
    });

    it(`istiod ${version} renders the pinned pilot image and the default tag's webhook`, async () => {
      const revision = version.replaceAll('.', '-');
      const docs = renderDocs(await helm(['template', 'x', 'istiod', '--repo', repo, '--version', version, '--namespace', 'istio-system', '--set', `revision=${revision}`, '--set', 'revisionTags={default}']));
      const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata?.name === `istiod-${revision}`);
      assert.ok(deployment, `no Deployment istiod-${revision} in ${docs.map((d) => `${d.kind ?? ''}/${d.metadata?.name ?? ''}`).join(', ')}`);
      assert.equal(deployment.spec?.template?.spec?.containers?.find((c) => c.name === 'discovery')?.image, `${kube.info.versions.istioHub}/pilot:${version}`);
      const tag = docs.find((d) => d.kind === 'MutatingWebhookConfiguration' && d.metadata?.name === 'istio-revision-tag-default');
      assert.ok(tag, 'no MutatingWebhookConfiguration istio-revision-tag-default');
      assert.equal(tag.metadata?.labels?.['istio.io/rev'], revision);
      assert.equal(tag.metadata?.labels?.['istio.io/tag'], 'default');
    });

    it(`gateway ${version} renders image "auto" (injected by the revision's webhook)`, async () => {
      const docs = renderDocs(await helm(['template', 'gw', 'gateway', '--repo', repo, '--version', version, '--namespace', 'istio-ingress']));
      const deployment = docs.find((d) => d.kind === 'Deployment');
      assert.equal(deployment?.spec?.template?.spec?.containers?.[0]?.image, 'auto');
    });
  }

  it('a version the repository does not hold is an error', async () => {
    await assert.rejects(helm(['show', 'chart', 'istiod', '--repo', repo, '--version', '1.0.0']), /chart "istiod" version "1\.0\.0" not found/);
  });

  describe('Helm Job pods run by the node agent', () => {
    const image = (): string => `docker.io/alpine/helm:${kube.info.versions.helm.replace(/^v/, '')}`;

    before(async () => {
      await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
      for (const name of ['helm-installer', 'nobody']) {
        await kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
      }
      // What `helm install` of the gateway chart needs, in this namespace only: the built-in `admin` ClusterRole.
      await kube.rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: 'helm-installer-admin' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
          subjects: [{ kind: 'ServiceAccount', name: 'helm-installer', namespace }],
        },
      });
    });

    it('runs `helm install` from the served repository as the ServiceAccount; the release is deployed', async () => {
      const { job, pod } = await runJob('install', 'helm-installer', image(), [
        'install', 'demo', 'gateway', '--repo', '$(CHART_REPO)', '--version', kube.info.versions.istioNew, '-n', '$(POD_NAMESPACE)', '--set', 'service.type=ClusterIP',
      ]);
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(jobOutcome(job), 'Complete', JSON.stringify({ job: job.status, terminated }));
      assert.equal(terminated?.exitCode, 0);
      assert.match(terminated?.message ?? '', /STATUS: deployed/);
      assert.match(pod.status?.containerStatuses?.[0]?.imageID ?? '', new RegExp(`^local://.*/helm-${kube.info.versions.helm.replaceAll('.', '\\.')}/helm$`));

      const releases = JSON.parse(await helm(['list', '-n', namespace, '-o', 'json', '--kubeconfig', kube.info.kubeconfigPath])) as { name: string; status: string; chart: string; app_version: string }[];
      assert.deepEqual(
        releases.map((r) => ({ name: r.name, status: r.status, chart: r.chart, app_version: r.app_version })),
        [{ name: 'demo', status: 'deployed', chart: `gateway-${kube.info.versions.istioNew}`, app_version: kube.info.versions.istioNew }],
      );
      const deployment = await kube.apps.readNamespacedDeployment({ name: 'demo', namespace });
      assert.equal(deployment.spec?.template.spec?.containers[0]?.image, 'auto');
      assert.equal((await kube.core.readNamespacedService({ name: 'demo', namespace })).spec?.type, 'ClusterIP');
    });

    it('authenticates as the pod ServiceAccount: one without a role is refused', async () => {
      const { job, pod } = await runJob('refused', 'nobody', image(), ['list', '-n', '$(POD_NAMESPACE)']);
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(jobOutcome(job), 'Failed');
      assert.notEqual(terminated?.exitCode, 0);
      assert.match(terminated?.message ?? '', new RegExp(`forbidden.*system:serviceaccount:${namespace}:nobody`, 's'));
    });

    it("has a private HOME with helm's cache/config/data homes in the run's own directory", async () => {
      const { job, pod } = await runJob('env', 'helm-installer', image(), ['env']);
      assert.equal(jobOutcome(job), 'Complete');
      const lines = new Map(
        (pod.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '')
          .split('\n')
          .map((l) => /^(\w+)="(.*)"$/.exec(l))
          .filter((m) => m !== null)
          .map((m) => [m[1] ?? '', m[2] ?? '']),
      );
      const cache = lines.get('HELM_CACHE_HOME') ?? '';
      assert.match(cache, /\/node-agent\/installer-pods\/[^/]+\/home\/\.cache\/helm$/, JSON.stringify([...lines]));
      const home = cache.replace(/\/\.cache\/helm$/, '');
      assert.equal(lines.get('HELM_CONFIG_HOME'), `${home}/.config/helm`);
      assert.equal(lines.get('HELM_DATA_HOME'), `${home}/.local/share/helm`);
      assert.equal(lines.get('HELM_NAMESPACE'), namespace, 'the kubeconfig context namespace is the pod namespace');
    });

    it('a helm version that was not built fails the pod with ErrImagePull', async () => {
      const { job, pod } = await runJob('missing', 'helm-installer', 'docker.io/alpine/helm:3.0.0', ['version']);
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(jobOutcome(job), 'Failed');
      assert.equal(terminated?.reason, 'ErrImagePull');
      assert.match(terminated?.message ?? '', /no helm built for Helm v3\.0\.0/);
    });

    /** A one-pod Job whose container gets CHART_REPO and POD_NAMESPACE (downward API) for `$(VAR)` expansion. */
    async function runJob(name: string, serviceAccountName: string, jobImage: string, args: string[]): Promise<{ job: V1Job; pod: V1Pod }> {
      await kube.batch.createNamespacedJob({
        namespace,
        body: {
          metadata: { name },
          spec: {
            backoffLimit: 0,
            template: {
              spec: {
                serviceAccountName,
                restartPolicy: 'Never',
                containers: [
                  {
                    name: 'helm',
                    image: jobImage,
                    args,
                    env: [
                      { name: 'CHART_REPO', value: repo },
                      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                    ],
                  },
                ],
              },
            },
          },
        },
      });
      const job = await waitFor(`Job ${name} to finish`, async () => {
        const current = await kube.batch.readNamespacedJob({ name, namespace });
        return jobOutcome(current) === undefined ? undefined : current;
      }, 180_000, 500);
      const pods = await kube.core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
      assert.equal(pods.items.length, 1, `Job ${name} should have run exactly one pod`);
      const pod = pods.items[0];
      assert.ok(pod);
      return { job, pod };
    }
  });
});

function renderDocs(text: string): Doc[] {
  return yaml.loadAll(text).filter((d): d is Doc => typeof d === 'object' && d !== null);
}

function jobOutcome(job: V1Job): 'Complete' | 'Failed' | undefined {
  const done = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return done?.type === 'Complete' ? 'Complete' : done === undefined ? undefined : 'Failed';
}

async function namespaceExists(kube: Kube, name: string): Promise<boolean> {
  try {
    await kube.core.readNamespace({ name });
    return true;
  } catch {
    return false;
  }
}
