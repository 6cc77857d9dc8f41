// Issue 15: the installer ClusterRole (deploy/rbac-installer.yaml) holds only what istioctl needs. The real
// istioctl of both pinned versions runs precheck, install and uninstall as the installer ServiceAccount: with
// the whole role it succeeds and is refused nothing it needs; without any one rule, some step fails (or, for
// precheck, hangs on a watch it may not make) with Forbidden.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE } from '../../src/api/constants.ts';
import { removeInstalledGateways } from '../../hack/e2e/control-plane.ts';
import { connect, kubectl, sleep, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { resetMesh } from '../../hack/e2e/mesh.ts';
import { OPERATOR_NAMESPACE, deployManifests, installOperatorManifests, serviceAccountKubeconfig } from '../../hack/e2e/operator.ts';
import { deleteAllUpgrades } from '../../hack/e2e/upgrades.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface ClusterRole {
  kind: string;
  metadata: { name: string };
  rules: Rule[];
}

const INSTALLER = 'istio-upgrade-installer';
const TEST_BINDING = 'istio-upgrade-installer-rbac-test';
const REVISION = 'rbac-probe';

/** Every kind of object the role covers: gateways, CNI, PDBs (2 istiod replicas), network policies, the VAP. */
const OVERLAY = {
  apiVersion: 'install.istio.io/v1alpha1',
  kind: 'IstioOperator',
  spec: {
    profile: 'default',
    components: { cni: { enabled: true }, egressGateways: [{ name: 'istio-egressgateway', enabled: true }] },
    values: { pilot: { autoscaleMin: 2 }, global: { networkPolicy: { enabled: true } }, experimental: { stableValidationPolicy: true } },
  },
};

/** Refusals istioctl tolerates by design: the proxy-status port-forward and the Calico probe. */
const TOLERATED_403 = /\/portforward|projectcalico\.org/;

interface StepResult {
  readonly step: string;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly output: string;
  readonly ms: number;
}

describe('end to end: the installer role is least privilege (real istioctl)', { timeout: 30 * 60_000 }, () => {
  let kube: Kube;
  let role: ClusterRole;
  let kubeconfig: string;
  let overlayPath: string;
  const table: string[] = [];

  function istioctlAs(version: string, config: string, args: readonly string[], timeoutMs: number): Promise<Omit<StepResult, 'step'>> {
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn(`istioctl-${version}`, ['--kubeconfig', config, ...args], { env: { ...process.env, ...kube.info.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, timedOut, output, ms: Date.now() - started });
      });
    });
  }

  /** precheck, install, uninstall as the installer; stops at the first step that fails. */
  async function sequence(version: string, extra: readonly string[] = []): Promise<StepResult[]> {
    const steps: [string, string[], number][] = [
      ['precheck', ['x', 'precheck', '--revision', REVISION, '--istioNamespace', ISTIO_NAMESPACE], 20_000],
      ['install', ['install', '-y', '--set', `revision=${REVISION}`, '-f', overlayPath], 180_000],
      ['uninstall', ['uninstall', '--revision', REVISION, '-y', '--istioNamespace', ISTIO_NAMESPACE], 60_000],
    ];
    const results: StepResult[] = [];
    for (const [step, args, timeoutMs] of steps) {
      const result = { step, ...(await istioctlAs(version, kubeconfig, [...args, ...extra], timeoutMs)) };
      results.push(result);
      if (result.code !== 0 || result.timedOut) break;
    }
    return results;
  }

  /** As cluster admin: whatever a failed or partial run left (uninstall leaves network policies and the VAP). */
  async function cleanUp(version: string): Promise<void> {
    await istioctlAs(version, kube.info.kubeconfigPath, ['uninstall', '--revision', REVISION, '-y', '--istioNamespace', ISTIO_NAMESPACE], 60_000);
    const selector = `istio.io/rev=${REVISION}`;
    // An install cut short by a missing rule can leave objects uninstall does not prune (gateways whose pods
    // the half-installed injector refuses): remove whatever carries the probe revision.
    const kinds = ['deployments', 'daemonsets', 'networkpolicies', 'validatingadmissionpolicies', 'validatingadmissionpolicybindings', 'mutatingwebhookconfigurations', 'validatingwebhookconfigurations'];
    await kubectl(kube, ['delete', kinds.join(','), '-A', '-l', selector, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    // Deletion is asynchronous: the next install must not patch an istiod that is still going away.
    await waitFor('probe revision gone', async () => ((await kubectl(kube, ['get', 'deployments,daemonsets', '-A', '-l', selector, '-o', 'name'])).trim() === '' ? true : undefined), 90_000, 500);
  }

  async function applyRole(rules: Rule[]): Promise<void> {
    await kubectl(kube, ['apply', '--server-side', '--force-conflicts', '-f', '-'], yaml.dump({ ...role, rules }));
    await sleep(1500); // RBAC caches in the API server are eventually consistent
  }

  before(async () => {
    kube = await connect();
    await deleteAllUpgrades(kube);
    await installOperatorManifests(kube);
    await resetMesh(kube);
    const found = (await deployManifests(kube)).find((o): o is ClusterRole => (o as ClusterRole).kind === 'ClusterRole' && (o as ClusterRole).metadata.name === INSTALLER);
    assert.ok(found !== undefined, 'deploy/ has the installer ClusterRole');
    role = found;
    // deploy/ binds nothing permanently (the operator binds per Job); this test binds the role itself.
    assert.ok(!(await deployManifests(kube)).some((o) => (o as { kind: string }).kind === 'ClusterRoleBinding' && (o as ClusterRole).metadata.name === INSTALLER), 'no permanent installer binding in deploy/');
    await kubectl(kube, ['create', 'clusterrolebinding', TEST_BINDING, `--clusterrole=${INSTALLER}`, `--serviceaccount=${OPERATOR_NAMESPACE}:${INSTALLER}`]).catch(() => undefined);
    kubeconfig = await serviceAccountKubeconfig(kube, INSTALLER);
    overlayPath = join(kube.info.clusterDir, 'installer-rbac-overlay.yaml');
    writeFileSync(overlayPath, yaml.dump(OVERLAY));
  });

  after(async () => {
    await cleanUp(kube.info.versions.istioNew);
    await kubectl(kube, ['delete', 'clusterrolebinding', TEST_BINDING, '--ignore-not-found']);
    await installOperatorManifests(kube);
    await removeInstalledGateways(kube, ISTIO_NAMESPACE);
    await resetMesh(kube);
    console.log(`installer RBAC rules, each shown to be needed (istioctl ${kube.info.versions.istioNew}):\n${table.join('\n')}`);
  });

  for (const which of ['istioOld', 'istioNew'] as const) {
    it(`the whole role is enough for istioctl ${which === 'istioOld' ? 'of the old version' : 'of the new version'}, and nothing it needs is refused`, async () => {
      const version = kube.info.versions[which];
      await applyRole(role.rules);
      const results = await sequence(version, ['--vklog=6']);
      await cleanUp(version);
      for (const r of results) console.log(`istioctl ${version} ${r.step}: exit ${String(r.code)} in ${r.ms} ms`);
      assert.deepEqual(results.map((r) => `${r.step}:${String(r.code)}`), ['precheck:0', 'install:0', 'uninstall:0'], results.map((r) => r.output.slice(-2000)).join('\n'));
      const refused = results.flatMap((r) => r.output.split('\n')).filter((l) => /status=403/.test(l) && !TOLERATED_403.test(l));
      assert.deepEqual(refused, [], 'requests refused with the whole role');
    });
  }

  it('without any one rule, a real istioctl precheck, install or uninstall fails with Forbidden', async () => {
    const version = kube.info.versions.istioNew;
    for (const [index, rule] of role.rules.entries()) {
      await applyRole(role.rules.filter((_, i) => i !== index));
      let results: StepResult[];
      try {
        results = await sequence(version);
      } finally {
        await cleanUp(version);
      }
      const failed = results.at(-1);
      const what = `${rule.resources.join(',')} [${rule.verbs.join(',')}]`;
      assert.ok(failed !== undefined && (failed.code !== 0 || failed.timedOut), `without ${what} every step succeeded`);
      const evidence = failed.output.split('\n').find((l) => /forbidden|permission denied|not currently held/i.test(l) && !TOLERATED_403.test(l));
      assert.ok(evidence !== undefined, `without ${what}, ${failed.step} failed but not for RBAC:\n${failed.output.slice(-1500)}`);
      const how = failed.timedOut ? 'hangs (a watch it may not make), killed' : `exit ${String(failed.code)}`;
      table.push(`| ${rule.apiGroups.join(',') || 'core'} | ${what} | ${failed.step} ${how} | ${evidence.replaceAll(`${String.fromCharCode(27)}[1;31m`, '').replaceAll(`${String.fromCharCode(27)}[0m`, '').trim().slice(0, 180).replaceAll('|', '/')} |`);
    }
    await applyRole(role.rules);
    assert.equal(table.length, role.rules.length);
  });
});
