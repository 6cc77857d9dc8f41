// Issue 15, item 5: /metrics answers only callers whose token may get it. The operator runs as its own
// ServiceAccount with deploy/'s RBAC and --metrics-auth=kubernetes; the tokens are real ServiceAccount tokens
// reviewed by the real API server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { connect, ignoreNotFound, kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { OperatorProcess, installOperatorManifests, serviceAccountKubeconfig } from '../../hack/e2e/operator.ts';

const NAMESPACE = 'metrics-auth';
const PORT = 9466;
const AUTH_BINDING = 'istio-upgrade-operator-metrics-auth';

async function token(kube: Kube, account: string): Promise<string> {
  const request = await kube.core.createNamespacedServiceAccountToken({ name: account, namespace: NAMESPACE, body: { spec: { expirationSeconds: 3600, audiences: [] } } });
  return request.status?.token ?? assert.fail('no token issued');
}

describe('end to end: /metrics only for callers allowed to get it', { timeout: 5 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;
  const seen: string[] = [];

  const scrape = async (bearer: string | undefined): Promise<{ code: number; body: string }> => {
    const response = await operator.fetchMetrics(bearer);
    return { code: response.status, body: await response.text() };
  };

  before(async () => {
    kube = await connect();
    await installOperatorManifests(kube);
    await ignoreNotFound(() => kube.core.deleteNamespace({ name: NAMESPACE }));
    await waitFor('namespace gone', async () => !(await kubectl(kube, ['get', 'ns', '-o', 'name'])).includes(`namespace/${NAMESPACE}`), 60_000);
    await kubectl(kube, ['apply', '-f', '-'], yaml.dump({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'scraper', namespace: NAMESPACE } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'stranger', namespace: NAMESPACE } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'metrics-auth-test-scraper' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'istio-upgrade-operator-metrics-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace: NAMESPACE }],
      },
    ] }));
    operator = new OperatorProcess(kube, { kubeconfig: await serviceAccountKubeconfig(kube), identity: 'e2e-metrics-auth', metricsPort: PORT, metricsAuth: 'kubernetes', extraArgs: ['--leader-elect=false'] });
    operator.start();
    await waitFor('the operator serves', async () => (await fetch(`http://127.0.0.1:${PORT}/readyz`).catch(() => undefined))?.status === 200, 60_000);
  });

  after(async () => {
    await installOperatorManifests(kube);
    assert.equal(await operator.stop(), 0);
    await kubectl(kube, ['delete', 'clusterrolebinding', 'metrics-auth-test-scraper', '--ignore-not-found']);
    await ignoreNotFound(() => kube.core.deleteNamespace({ name: NAMESPACE }));
    console.log(`/metrics access:\n${seen.join('\n')}`);
  });

  it('no token, or a forged one: 401', async () => {
    const none = await scrape(undefined);
    assert.equal(none.code, 401, none.body);
    const forged = await scrape('eyJhbGciOiJSUzI1NiJ9.forged.token');
    assert.equal(forged.code, 401, forged.body);
    seen.push(`no token: ${none.code} ${none.body.trim()}`, `forged token: ${forged.code} ${forged.body.trim()}`);
  });

  it('a valid token of a ServiceAccount without the metrics-reader binding: 403', async () => {
    const result = await scrape(await token(kube, 'stranger'));
    assert.equal(result.code, 403, result.body);
    assert.match(result.body, /system:serviceaccount:metrics-auth:stranger may not get \/metrics/);
    seen.push(`stranger: ${result.code} ${result.body.trim()}`);
  });

  it('a token bound to istio-upgrade-operator-metrics-reader: 200 with the operator metrics; /healthz stays open', async () => {
    const result = await scrape(await token(kube, 'scraper'));
    assert.equal(result.code, 200, result.body);
    assert.match(result.body, /^# HELP istio_upgrade_/m);
    seen.push(`scraper: ${result.code}, ${result.body.split('\n').filter((l) => l.startsWith('istio_upgrade_')).length} istio_upgrade_ samples`);
    assert.equal((await fetch(`http://127.0.0.1:${PORT}/healthz`)).status, 200);
  });

  it('without its metrics-auth ClusterRoleBinding the operator cannot review tokens: 500, nothing served', async () => {
    await kubectl(kube, ['delete', 'clusterrolebinding', AUTH_BINDING]);
    const fresh = await token(kube, 'scraper'); // a new token: no cached answer
    const result = await waitFor('a 500 once RBAC caught up', async () => {
      const r = await scrape(fresh);
      return r.code === 500 ? r : undefined;
    }, 30_000, 1000);
    assert.match(result.body, /could not review the token: .*(forbidden|Forbidden|403)/s);
    assert.doesNotMatch(result.body, /istio_upgrade_/);
    seen.push(`without ${AUTH_BINDING}: ${result.code} ${result.body.trim().slice(0, 160)}`);
  });
});
