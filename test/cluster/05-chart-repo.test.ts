// The Helm side of the hermetic cluster: the chart repository of both pinned Istio versions that the harness serves
// inside the network namespace (IUO_CHART_REPO), read with the helm built by hack/build.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { readVersions } from '../../hack/cluster/cluster.ts';
import { connect, type Kube } from '../../hack/e2e/kube.ts';

const run = promisify(execFile);
/** The pinned versions, known while the tests are declared (before `connect`). */
const VERSIONS = readVersions();

interface Doc {
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
}

describe('end to end: Helm chart repository', { timeout: 10 * 60_000 }, () => {
  let kube: Kube;
  let repo: string;
  let helmHome: string;

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
  after(() => {
    rmSync(helmHome, { recursive: true, force: true });
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
    await assert.rejects(helm(['show', 'chart', 'istiod', '--repo', repo, '--version', '1.0.0']), /istiod.*1\.0\.0|not found/);
  });

});

function renderDocs(text: string): Doc[] {
  return yaml.loadAll(text).filter((d): d is Doc => typeof d === 'object' && d !== null);
}
