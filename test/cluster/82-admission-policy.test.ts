// Issue 15, item 2: RBAC to create IstioUpgrades is not enough; deploy/'s ValidatingAdmissionPolicy admits
// them only from the configured groups and users, and the operator's own status writes are not affected.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import yaml from 'js-yaml';
import { connect, ignoreNotFound, kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { OPERATOR_NAMESPACE, installOperatorManifests, serviceAccountKubeconfig } from '../../hack/e2e/operator.ts';
import { sampleSpec } from '../../hack/e2e/scenario.ts';

const REQUESTER = 'iu-requester';
const ROLE = 'e2e-istioupgrade-editor';
const PARAMS = 'istio-upgrade-operator-admission';

/** kubectl as another identity: resolves with the exit code and output, never rejects. */
function kubectlAs(kube: Kube, kubeconfig: string, args: string[], input: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', [`--kubeconfig=${kubeconfig}`, ...args], { env: { ...process.env, ...kube.info.env, KUBECONFIG: kubeconfig } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      resolve({ code, out });
    });
    child.stdin.end(input);
  });
}

describe('end to end: who may create IstioUpgrades (ValidatingAdmissionPolicy)', { timeout: 5 * 60_000 }, () => {
  let kube: Kube;
  let kubeconfig: string;
  let manifest: string;
  const seen: string[] = [];

  before(async () => {
    kube = await connect();
    await installOperatorManifests(kube);
    await kubectl(kube, ['apply', '-f', '-'], yaml.dump({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: REQUESTER, namespace: OPERATOR_NAMESPACE } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: ROLE }, rules: [{ apiGroups: ['istioupgrade.dev'], resources: ['istioupgrades'], verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: ROLE }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ROLE }, subjects: [{ kind: 'ServiceAccount', name: REQUESTER, namespace: OPERATOR_NAMESPACE }] },
    ] }));
    kubeconfig = await serviceAccountKubeconfig(kube, REQUESTER);
    manifest = yaml.dump({ apiVersion: 'istioupgrade.dev/v1alpha1', kind: 'IstioUpgrade', metadata: { name: 'from-a-requester' }, spec: sampleSpec(kube) });
  });

  after(async () => {
    await installOperatorManifests(kube); // the ConfigMap back to its shipped content
    await kubectl(kube, ['delete', 'clusterrolebinding,clusterrole', ROLE, '--ignore-not-found']);
    await ignoreNotFound(() => kube.core.deleteNamespacedServiceAccount({ name: REQUESTER, namespace: OPERATOR_NAMESPACE }));
    console.log(`admission:\n${seen.join('\n')}`);
  });

  it('a ServiceAccount that RBAC allows to create IstioUpgrades, but is not listed, is refused by the API server', async () => {
    const rbac = await kubectlAs(kube, kubeconfig, ['auth', 'can-i', 'create', 'istioupgrades.istioupgrade.dev'], '');
    assert.equal(rbac.out.trim().split('\n').at(-1), 'yes', 'RBAC alone would allow it (the last line; kubectl warns first that the resource is cluster-scoped)');
    const result = await kubectlAs(kube, kubeconfig, ['create', '--dry-run=server', '-f', '-'], manifest);
    assert.notEqual(result.code, 0, result.out);
    assert.match(result.out, /istio-upgrade-operator-requesters.*system:serviceaccount:istio-upgrade-operator:iu-requester may not create, change or delete IstioUpgrades/s);
    seen.push(`not listed: exit ${String(result.code)}: ${result.out.trim().slice(0, 300)}`);
  });

  it('listed by its group in the ConfigMap, the same request is admitted', async () => {
    await kubectl(kube, ['-n', OPERATOR_NAMESPACE, 'patch', 'configmap', PARAMS, '--type=merge', '-p', JSON.stringify({ data: { allowedGroups: `system:masters,istio-upgrade-admins,system:serviceaccounts:${OPERATOR_NAMESPACE}` } })]);
    // The policy reads its parameters through an informer: allow it a moment.
    const result = await waitFor('admitted once the parameters changed', async () => {
      const r = await kubectlAs(kube, kubeconfig, ['create', '--dry-run=server', '-f', '-'], manifest);
      return r.code === 0 ? r : undefined;
    }, 30_000, 1000);
    seen.push(`listed by group: exit ${String(result.code)}: ${result.out.trim()}`);
  });

  it('cluster admins (system:masters) are admitted by default; the status subresource is not matched', async () => {
    const admin = await kubectl(kube, ['create', '--dry-run=server', '-f', '-'], manifest);
    assert.match(admin, /created \(server dry run\)/);
    const policy = await kubectl(kube, ['get', 'validatingadmissionpolicy', 'istio-upgrade-operator-requesters', '-o', 'jsonpath={.spec.matchConstraints.resourceRules[0].resources}']);
    assert.equal(policy, '["istioupgrades"]', 'istioupgrades/status is not in the rule: the operator\'s status writes pass');
  });
});
