// Issue 5: the operator runs as its own ServiceAccount with deploy/'s least-privilege RBAC, the installer Jobs as
// theirs. Each rule of the operator's roles is needed: without it some step fails with a clear error. Then a
// whole upgrade succeeds under those roles while Prometheus scrapes the operator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { connect, kubectl, sleep, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { resetMesh, setTag } from '../../hack/e2e/mesh.ts';
import { OPERATOR_NAMESPACE, OperatorProcess, deployManifests, installOperatorManifests, serviceAccountKubeconfig } from '../../hack/e2e/operator.ts';
import { sampleSpec } from '../../hack/e2e/scenario.ts';
import { buildRuntimeLayout } from '../../scripts/runtime-layout.ts';
import type { Action } from '../../src/core/actions.ts';
import { makeClients } from '../../src/kube/clients.ts';
import { loadConnection } from '../../src/kube/rest/kube-connection.ts';
import { execute } from '../../src/kube/execute.ts';
import { condition, createUpgrade, deleteAllUpgrades, deleteUpgrade, getUpgrade, waitForPhase } from '../../hack/e2e/upgrades.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface RoleObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules: Rule[];
}

/**
 * How a missing rule shows: in the upgrade's status, in the operator's log, or (for actions only some mesh
 * shapes need: evictions, namespace labels) as the executor's own Forbidden when it carries the action out.
 */
type Symptom = { where: 'status'; reason: string; pattern: RegExp } | { where: 'log'; pattern: RegExp } | { where: 'action'; action: Action; pattern: RegExp };

const PROBE_NAMESPACE = 'rbac-probe';

function symptomFor(rule: Rule, role: RoleObject, evictable: { namespace: string; name: string }): Symptom {
  const resources = rule.resources.join(',');
  if (role.kind === 'Role') {
    if (role.metadata.namespace === 'default') return { where: 'log', pattern: /could not record an event/ };
    if (resources === 'services') return { where: 'status', reason: 'WatchFailed', pattern: /cannot list\/watch .*\bservices/ };
    if (resources === 'leases') return { where: 'log', pattern: /leader election: lease request failed.*leases.*forbidden|leases\.coordination\.k8s\.io .* is forbidden/ };
    if (resources === 'jobs') return { where: 'status', reason: 'Forbidden', pattern: /not allowed to create jobs .*forbidden/ };
    return { where: 'status', reason: 'Forbidden', pattern: /not allowed to create configmaps .*forbidden/ };
  }
  if (resources === 'pods/eviction') return { where: 'action', action: { type: 'evictPod', ...evictable }, pattern: /not allowed to create pods\/eviction .*forbidden/ };
  if (resources === 'namespaces' && rule.verbs.includes('patch')) return { where: 'action', action: { type: 'labelNamespace', name: PROBE_NAMESPACE, labels: { 'rbac-probe': 'yes' } }, pattern: /not allowed to patch namespaces .*forbidden/ };
  if (resources === 'mutatingwebhookconfigurations') return { where: 'status', reason: 'Forbidden', pattern: /not allowed to apply mutatingwebhookconfigurations istio-revision-tag-default.*forbidden/ };
  if (resources === 'validatingwebhookconfigurations') return { where: 'status', reason: 'Forbidden', pattern: /not allowed to apply validatingwebhookconfigurations istiod-default-validator.*forbidden/ };
  if (resources === 'clusterrolebindings' && rule.verbs.includes('create')) return { where: 'status', reason: 'Forbidden', pattern: /not allowed to apply clusterrolebindings istio-upgrade-installer.*forbidden/ };
  if (resources === 'clusterroles') return { where: 'status', reason: 'Forbidden', pattern: /not allowed to apply clusterrolebindings istio-upgrade-installer.*(bind|escalat|not currently held)/ };
  if (resources === 'istioupgrades') return { where: 'log', pattern: /watch failed; restarting informer.*"informer":"istioupgrades"|"informer":"istioupgrades".*watch failed/ };
  if (resources === 'istioupgrades/status') return { where: 'log', pattern: /not allowed to patch istioupgrades\/.*\/status/ };
  if (resources === 'events') return { where: 'log', pattern: /could not record an event/ };
  return { where: 'status', reason: 'WatchFailed', pattern: new RegExp(`cannot list/watch .*\\b(${rule.resources.join('|')})`) };
}

describe('end to end: least-privilege RBAC and Prometheus', { timeout: 45 * 60_000 }, () => {
  let kube: Kube;
  let roles: RoleObject[];
  const table: string[] = [];

  before(async () => {
    kube = await connect();
    await deleteAllUpgrades(kube);
    await installOperatorManifests(kube);
    await resetMesh(kube);
    roles = (await deployManifests(kube)).filter((o): o is RoleObject => ['ClusterRole', 'Role'].includes((o as RoleObject).kind) && (o as RoleObject).metadata.name === 'istio-upgrade-operator');
    assert.equal(roles.length, 4, 'ClusterRole, and Roles in the operator, Istio and "default" namespaces');
    await kubectl(kube, ['create', 'namespace', PROBE_NAMESPACE]).catch(() => undefined);
  });

  /** Carries an action out as the operator's ServiceAccount, as the operator would. */
  async function executeAs(kubeconfig: string, action: Action): Promise<string> {
    const clients = makeClients(loadConnection(kubeconfig));
    const installer = { namespace: OPERATOR_NAMESPACE, serviceAccount: 'istio-upgrade-installer', activeDeadlineSeconds: 60 };
    try {
      return await execute({ clients, installer, owner: { name: 'rbac-probe', uid: 'rbac-probe' } }, action);
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  async function anEvictablePod(): Promise<{ namespace: string; name: string }> {
    const pods = await kube.core.listNamespacedPod({ namespace: 'bar' });
    const pod = pods.items.find((p) => p.metadata?.deletionTimestamp === undefined);
    assert.ok(pod?.metadata?.name !== undefined, 'a sample pod in bar');
    return { namespace: 'bar', name: pod.metadata.name };
  }

  after(async () => {
    await installOperatorManifests(kube);
    console.log(`RBAC rules of the operator, each shown to be needed:\n${table.join('\n')}`);
  });

  it('every rule of the operator ClusterRole and Roles is needed', async () => {
    const kubeconfig = await serviceAccountKubeconfig(kube);
    // With every rule, the actions only some mesh shapes need are allowed.
    for (const action of [{ type: 'evictPod', ...(await anEvictablePod()) }, { type: 'labelNamespace', name: PROBE_NAMESPACE, labels: { 'rbac-probe': 'all-rules' } }] as const) {
      assert.equal(await executeAs(kubeconfig, action), 'done', JSON.stringify(action));
    }
    let n = 0;
    for (const role of roles) {
      for (const [index, rule] of role.rules.entries()) {
        n += 1;
        const without = { ...role, rules: role.rules.filter((_, i) => i !== index) };
        await kubectl(kube, ['apply', '--server-side', '--force-conflicts', '-f', '-'], yaml.dump(without));
        await sleep(1500); // RBAC caches in the API server are eventually consistent
        const symptom = symptomFor(rule, role, await anEvictablePod());
        if (symptom.where === 'action') {
          const message = await executeAs(kubeconfig, symptom.action);
          try {
            assert.match(message, symptom.pattern, `${role.kind} rule ${rule.resources.join(',')} missing`);
            table.push(`| ${role.kind} ${role.metadata.namespace ?? ''} | ${rule.apiGroups.join(',') || 'core'} | ${rule.resources.join(',')} | ${rule.verbs.join(',')} | ${message.slice(0, 160).replaceAll('|', '/')} |`);
          } finally {
            await kubectl(kube, ['apply', '--server-side', '--force-conflicts', '-f', '-'], yaml.dump(role));
          }
          continue;
        }
        const operator = new OperatorProcess(kube, { kubeconfig, identity: `e2e-rbac-${n}` });
        const name = `rbac-${n}`;
        operator.start();
        try {
          await createUpgrade(kube, name, sampleSpec(kube, { installer: { istioctl: { values: { meshConfig: { accessLogFile: '/dev/stdout' } } } } }));
          const seen = await waitFor(`${role.kind} rule ${rule.resources.join(',')} missing -> ${symptom.where} ${String(symptom.pattern)}`, async () => {
            if (symptom.where === 'log') return symptom.pattern.exec(operator.log())?.[0];
            const upgrade = await getUpgrade(kube, name);
            const stalled = condition(upgrade, 'Stalled');
            return stalled?.status === 'True' && stalled.reason === symptom.reason && symptom.pattern.test(stalled.message) ? `${stalled.reason}: ${stalled.message}` : undefined;
          }, 90_000, 1000);
          table.push(`| ${role.kind} ${role.metadata.namespace ?? ''} | ${rule.apiGroups.join(',') || 'core'} | ${rule.resources.join(',')} | ${rule.verbs.join(',')} | ${seen.slice(0, 160).replaceAll('|', '/')} |`);
        } finally {
          await operator.kill();
          await deleteUpgrade(kube, name);
          // The installer binding of a Job this upgrade ran is garbage-collected with it, but not at once: each
          // rule starts without it (else a binding left over hides a missing create).
          await kubectl(kube, ['delete', 'clusterrolebinding', 'istio-upgrade-installer', '--ignore-not-found']);
          // A rule missing at the validator lets the injector move first: the next rule starts from the old tag.
          if (symptom.where === 'status' && /webhookconfigurations/.test(String(symptom.pattern))) await setTag(kube, kube.info.versions.istioOld, kube.info.versions.istioOldRevision);
          await kubectl(kube, ['apply', '--server-side', '--force-conflicts', '-f', '-'], yaml.dump(role));
        }
      }
    }
    assert.equal(table.length, n);
    assert.ok(n >= 19, `${n} rules checked`);
  });

  it('runs a whole upgrade from the bundled build the image ships, as its own ServiceAccount (installer Jobs as theirs), scraped by Prometheus', async () => {
    await deleteAllUpgrades(kube);
    await resetMesh(kube);
    await sleep(2000);
    // dist/ as the Dockerfile builds it (scripts/bundle.ts), with no node_modules next to it.
    const layout = await buildRuntimeLayout(true);
    assert.equal(layout.hasNodeModules, false);
    const operator = new OperatorProcess(kube, { kubeconfig: await serviceAccountKubeconfig(kube), identity: 'e2e-rbac-full', entry: join(layout.dir, 'dist', 'main.js') });
    operator.start();
    try {
      await createUpgrade(kube, 'rbac-full', sampleSpec(kube, { installer: { istioctl: { values: { meshConfig: { accessLogFile: '/dev/stdout' } } } } }));
      const done = await waitForPhase(kube, 'rbac-full', ['Succeeded', 'Failed', 'RolledBack'], 900_000);
      assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure));
      const jobs = await kube.batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE, labelSelector: `istioupgrade.dev/upgrade=${done.metadata.uid}` });
      for (const job of jobs.items) assert.equal(job.spec?.template.spec?.serviceAccountName, 'istio-upgrade-installer');
      assert.equal(jobs.items.length, 3);
      // The installer account held its role only while its Jobs ran: the binding is gone once they are done.
      const binding = await waitFor('installer binding revoked', async () => (await kubectl(kube, ['get', 'clusterrolebinding', 'istio-upgrade-installer', '--ignore-not-found', '-o', 'name'])) === '' ? 'gone' : undefined, 30_000);
      assert.equal(binding, 'gone');
      // Escalation attempts, each refused by the API server:
      // the installer account outside a Job holds nothing of its role;
      const installer = 'system:serviceaccount:istio-upgrade-operator:istio-upgrade-installer';
      for (const [verb, resource] of [['escalate', 'clusterroles'], ['bind', 'clusterroles'], ['list', 'secrets'], ['create', 'deployments']] as const) {
        const answer = await kubectl(kube, ['auth', 'can-i', verb, resource, '--all-namespaces', `--as=${installer}`]).catch((error: unknown) => (error as { stdout?: string }).stdout ?? String(error));
        assert.equal(answer.trim(), 'no', `installer may ${verb} ${resource} outside a Job`);
      }
      // the operator cannot bind cluster-admin (bind only on the installer role), to itself or anyone.
      const operatorConfig = await serviceAccountKubeconfig(kube);
      const attempt = await kubectl(kube, ['--kubeconfig', operatorConfig, 'create', 'clusterrolebinding', 'escalation-attempt', '--clusterrole=cluster-admin', '--serviceaccount=istio-upgrade-operator:istio-upgrade-operator'])
        .then(() => 'created')
        .catch((error: unknown) => String((error as { stderr?: string }).stderr ?? error));
      console.log(`operator binding cluster-admin: ${attempt.trim().slice(0, 240)}`);
      assert.match(attempt, /forbidden.*(attempting to grant RBAC permissions not currently held|bind)/s);

      // Prometheus scrapes the operator every second: the phase and restart series are there.
      const query = async (promql: string) => {
        const response = await fetch(`${kube.info.prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
        const body = (await response.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
        return body.data.result;
      };
      const phase = await waitFor('istio_upgrade_phase scraped', async () => {
        const result = await query('istio_upgrade_phase{upgrade="rbac-full",phase="Succeeded"}');
        return result[0]?.value[1] === '1' ? result : undefined;
      }, 30_000, 1000);
      const restarted = await waitFor('restarts scraped', async () => {
        const result = await query('sum(istio_upgrade_workloads_restarted_total{upgrade="rbac-full"})');
        return Number(result[0]?.value[1] ?? 0) >= 11 ? result : undefined;
      }, 30_000, 1000);
      console.log(`prometheus: istio_upgrade_phase{phase="Succeeded"}=${phase[0]?.value[1] ?? '?'}, sum(istio_upgrade_workloads_restarted_total)=${restarted[0]?.value[1] ?? '?'}`);
      assert.equal(Number(restarted[0]?.value[1]), 11);
    } finally {
      assert.equal(await operator.stop(), 0);
      rmSync(layout.dir, { recursive: true, force: true });
    }
  });
});
