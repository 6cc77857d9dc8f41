// Issue 11: soaks that cannot pass without measuring, and built-in health signals without Prometheus.
// - the shipped example's checks (examples/upgrade.yaml) pass on a healthy mesh, and the gateways soak reads
//   the gateway's own source-reported series from the exporter;
// - a PromQL Prometheus rejects fails the precheck, before anything changes;
// - no traffic for a whole soak (a canary namespace that never had any) rolls back with NoTraffic, and passes
//   with allowNoData;
// - Prometheus stopped mid-soak: the soak holds (the clock does not count), then MetricsUnavailable;
// - an istio-proxy restart of an upgraded pod during the canary soak rolls back naming the pod, with no
//   Prometheus configured at all.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import type { IstioUpgradeSpecInput } from '../../src/api/schema.ts';
import { restartDeadDaemons, stopPrometheus } from '../../hack/e2e/daemons.ts';
import { kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { applyObjects, podRevision, resetMesh, revisionInstalled, tagRevision } from '../../hack/e2e/mesh.ts';
import { deployment } from '../../hack/e2e/workloads.ts';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { freshScenario, resetExporter } from '../../hack/e2e/scenario.ts';
import { condition, createUpgrade, deleteUpgrade, waitForPhase, waitForUpgrade, type LiveUpgrade } from '../../hack/e2e/upgrades.ts';

const EXAMPLE = yaml.load(readFileSync(new URL('../../examples/upgrade.yaml', import.meta.url), 'utf8')) as { spec: IstioUpgradeSpecInput };

function spec(kube: Kube, soak: IstioUpgradeSpecInput['soak'], rollout?: IstioUpgradeSpecInput['rollout']): IstioUpgradeSpecInput {
  return {
    ...EXAMPLE.spec,
    version: kube.info.versions.istioNew,
    rollout: rollout ?? { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 3 }], workloadTimeout: '3m' },
    soak,
    uninstall: { gracePeriod: '5s' },
  };
}

type PrometheusInput = NonNullable<NonNullable<IstioUpgradeSpecInput['soak']>['prometheus']>;

function prometheus(kube: Kube, extra: Partial<PrometheusInput> = {}): PrometheusInput {
  return { checks: EXAMPLE.spec.soak?.prometheus?.checks ?? [], ...EXAMPLE.spec.soak?.prometheus, address: kube.info.prometheusUrl, interval: '2s', ...extra };
}

async function ended(kube: Kube, name: string): Promise<LiveUpgrade> {
  return waitForPhase(kube, name, ['Succeeded', 'Failed', 'RolledBack'], 10 * 60_000);
}

describe('end to end: soaks that measure something, built-in health signals (issue 11)', { timeout: 30 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-soak-signals'));
    operator.start();
  });

  after(async () => {
    await restartDeadDaemons();
    await resetExporter(kube);
    assert.equal(await operator.stop(), 0);
  });

  it('a PromQL that Prometheus rejects fails the precheck, before anything changes', async () => {
    const bad = spec(kube, { duration: '5s', prometheus: prometheus(kube, { checks: [{ name: 'broken', query: 'sum(rate(istio_requests_total{[1m]))', max: 0.01 }] }) });
    await createUpgrade(kube, 'bad-query', bad);
    const done = await ended(kube, 'bad-query');
    assert.equal(done.status?.phase, 'Failed');
    assert.equal(done.status?.failure?.reason, 'InvalidSoakQuery');
    assert.match(done.status.failure.message, /Prometheus rejects soak query "broken": .*bad_data/);
    const jobs = await kube.batch.listNamespacedJob({ namespace: 'istio-upgrade-operator', labelSelector: `istioupgrade.dev/upgrade=${done.metadata.uid}` });
    assert.equal(jobs.items.length, 0, 'no Job ran');
    assert.equal(await revisionInstalled(kube, kube.info.versions.istioNewRevision), false);
    await deleteUpgrade(kube, 'bad-query');
  });

  it('the shipped example passes on a healthy mesh; the gateways soak reads the gateway as a traffic source', async () => {
    await createUpgrade(kube, 'example', spec(kube, { duration: '8s', prometheus: prometheus(kube) }));
    const gatewaySoak = await waitForUpgrade(kube, 'example', (u) => u.status?.soak?.target === 'gateways' && (u.status.soak.results ?? []).some((r) => r.name === 'error-ratio'), 'the gateways soak measured', 5 * 60_000);
    const results = gatewaySoak.status?.soak?.results ?? [];
    console.log(`gateways soak: ${JSON.stringify(results)}`);
    const ratio = results.find((r) => r.name === 'error-ratio');
    assert.equal(ratio?.outcome, 'Passed', JSON.stringify(ratio));
    assert.equal(ratio.series, 1, 'one series: the gateway as source');
    assert.equal(results.find((r) => r.name === 'error-ratio-by-workload')?.outcome, 'Passed');
    const done = await ended(kube, 'example');
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure));
    await deleteUpgrade(kube, 'example');
  });

  it('no traffic for a whole soak rolls back with NoTraffic; with allowNoData it passes', async () => {
    await resetMesh(kube);
    // A namespace that has never had traffic: the exporter serves no series for it, so the canary soak sees none.
    await applyObjects(kube, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'quiet', labels: { [ISTIO_REV_LABEL]: 'default', 'iuo.test/shape': 'quiet' } } },
      deployment('quiet', 'quiet-api'),
    ]);
    await waitFor('quiet-api injected by the old revision', async () => {
      const pods = (await kube.core.listNamespacedPod({ namespace: 'quiet' })).items;
      return pods.length === 1 && pods.every((p) => p.status?.phase === 'Running' && podRevision(p) === kube.info.versions.istioOldRevision);
    }, 120_000, 1000);
    const waves = { waves: [{ name: 'canary', namespaces: ['quiet'] }, { name: 'rest', maxConcurrentNamespaces: 3 }], workloadTimeout: '3m' };
    await createUpgrade(kube, 'quiet', spec(kube, { duration: '6s', prometheus: prometheus(kube) }, waves));
    const quiet = await ended(kube, 'quiet');
    assert.equal(quiet.status?.phase, 'RolledBack');
    assert.equal(quiet.status?.failure?.reason, 'NoTraffic');
    assert.match(quiet.status.failure.message, /soak of wave:canary measured nothing: no data for error-ratio, error-ratio-by-workload/);
    await deleteUpgrade(kube, 'quiet');

    const allow = prometheus(kube, { checks: (EXAMPLE.spec.soak?.prometheus?.checks ?? []).map((c) => ({ ...c, allowNoData: true })) });
    await createUpgrade(kube, 'quiet-allowed', spec(kube, { duration: '6s', prometheus: allow }, waves));
    const allowed = await ended(kube, 'quiet-allowed');
    assert.equal(allowed.status?.phase, 'Succeeded', JSON.stringify(allowed.status?.failure));
    await deleteUpgrade(kube, 'quiet-allowed');
    await resetExporter(kube);
  });

  it('Prometheus stopped mid-soak: the soak holds, then ends with MetricsUnavailable once the budget is spent', async () => {
    await resetMesh(kube);
    await createUpgrade(kube, 'prom-down', spec(kube, { duration: '20s', prometheus: prometheus(kube, { metricsUnavailableLimit: 4 }) }));
    await waitForUpgrade(kube, 'prom-down', (u) => u.status?.soak?.target === 'wave:canary' && u.status.soak.lastEvaluatedAt !== undefined, 'the canary soak measured');
    await stopPrometheus();
    try {
      const holding = await waitForUpgrade(kube, 'prom-down', (u) => (u.status?.soak?.unavailable ?? 0) >= 2, 'unanswered evaluations', 120_000);
      assert.equal(holding.status?.phase, 'Soaking', 'still soaking: neither passed nor failed');
      assert.ok((holding.status?.soak?.heldMs ?? 0) > 0, 'the soak clock held');
      assert.equal(holding.status?.soak?.failures, 0, 'unanswered queries are not bad values');
      assert.match(condition(holding, 'Reconciling')?.message ?? '', /clock held/);
      const done = await ended(kube, 'prom-down');
      assert.equal(done.status?.failure?.reason, 'MetricsUnavailable');
      assert.equal(done.status.failure.phase, 'Soaking');
      assert.equal(done.status.phase, 'RolledBack');
      assert.match(done.status.failure.message, /could not answer 5 time\(s\)/);
    } finally {
      await restartDeadDaemons();
    }
    await deleteUpgrade(kube, 'prom-down');
  });

  it('an istio-proxy restart of an upgraded pod during the canary soak rolls back naming the pod, without Prometheus', async () => {
    await resetMesh(kube);
    await createUpgrade(kube, 'proxy-restart', spec(kube, { duration: '45s' }));
    await waitForUpgrade(kube, 'proxy-restart', (u) => u.status?.phase === 'Soaking' && u.status.soak?.target === 'wave:canary', 'the canary soak');
    const pods = (await kube.core.listNamespacedPod({ namespace: 'bar', labelSelector: 'app=bar-api' })).items.filter((p) => p.metadata?.deletionTimestamp === undefined && podRevision(p) === kube.info.versions.istioNewRevision);
    const pod = pods[0];
    assert.ok(pod !== undefined);
    const index = (pod.status?.containerStatuses ?? []).findIndex((c) => c.name === 'istio-proxy');
    assert.ok(index >= 0, JSON.stringify(pod.status?.containerStatuses?.map((c) => c.name)));
    const name = pod.metadata?.name ?? '';
    // What a crashing sidecar looks like to the API server: its restart count goes up.
    await kubectl(kube, ['patch', 'pod', name, '-n', 'bar', '--subresource=status', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: `/status/containerStatuses/${index}/restartCount`, value: 3 }])]);
    const done = await ended(kube, 'proxy-restart');
    assert.equal(done.status?.phase, 'RolledBack');
    assert.equal(done.status?.failure?.reason, 'SoakFailed');
    assert.match(done.status.failure.message, new RegExp(`builtin:proxy-restarts=Failed \\(\\{namespace="bar",pod="${name}",container="istio-proxy"\\} 3 > max 0\\)`));
    assert.equal(await tagRevision(kube), kube.info.versions.istioOldRevision);
    await waitFor('bar back on the old proxy', async () => {
      const now = (await kube.core.listNamespacedPod({ namespace: 'bar', labelSelector: 'app=bar-api' })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
      return now.length > 0 && now.every((p) => podRevision(p) === kube.info.versions.istioOldRevision);
    }, 120_000);
  });
});
