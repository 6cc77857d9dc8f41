// The built-in soak signals measured from the observed pods: one series per pod (or container), compared with
// the restart counts at the start of the soak.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerState, Series } from '../../../src/core/observed.ts';
import type { BuiltinCheck } from '../../../src/core/soak.ts';
import { builtinReadings } from '../../../src/kube/metrics/builtin.ts';
import { NEW, pod, sampleMesh, workload } from '../../support/fixtures.ts';

const NOW = new Date('2026-11-30T10:00:00Z');

function measure(check: BuiltinCheck['name'], containers: ContainerState[], extra: Parameters<typeof pod>[3] = {}, baseline: Record<string, number> = {}): readonly Series[] {
  const w = workload('bar', 'api', NEW.revision);
  const observed = sampleMesh({ workloads: [{ ...w, pods: [pod('bar', 'api-0', NEW.revision, { containers, ...extra })] }] });
  const [reading] = builtinReadings(
    { provider: 'builtin', target: 'wave:canary', workloads: ['Deployment/bar/api'], baseline, revision: NEW.revision, checks: [{ name: check, max: 0 }], proxyContainer: 'istio-proxy' },
    { observed, now: NOW },
  );
  assert.ok(reading !== undefined && reading.kind === 'series', JSON.stringify(reading));
  return reading.series;
}

describe('built-in soak signals', () => {
  const proxy = (restarts: number): ContainerState => ({ name: 'istio-proxy', restarts });
  const app = (restarts: number, waitingReason?: string): ContainerState => ({ name: 'app', restarts, ...(waitingReason === undefined ? {} : { waitingReason }) });

  it('istio-proxy restarts since the soak began, per pod', () => {
    assert.deepEqual(measure('proxy-restarts', [proxy(3), app(0)]), [{ labels: { namespace: 'bar', pod: 'api-0', container: 'istio-proxy' }, value: 3 }]);
    assert.deepEqual(measure('proxy-restarts', [proxy(3)], {}, { 'bar/api-0/istio-proxy': 3 })[0]?.value, 0, 'restarts before the soak do not count');
  });

  it('app container restarts, apart from the proxy', () => {
    assert.deepEqual(measure('app-restarts', [proxy(5), app(2)]).map((s) => [s.labels.container, s.value]), [['app', 2]]);
  });

  it('CrashLoopBackOff', () => {
    assert.equal(measure('crash-loop', [proxy(0), app(4, 'CrashLoopBackOff')])[0]?.value, 1);
    assert.equal(measure('crash-loop', [proxy(0), app(0)])[0]?.value, 0);
  });

  it('seconds a pod has not been Ready', () => {
    assert.equal(measure('not-ready', [app(0)], { ready: false, readySince: '2026-11-30T09:58:30Z' })[0]?.value, 90);
    assert.equal(measure('not-ready', [app(0)], { ready: true, readySince: '2026-11-30T09:58:30Z' })[0]?.value, 0);
  });

  it('pods of other workloads are not measured; no pod at all is no data', () => {
    const observed = sampleMesh();
    const [reading] = builtinReadings({ provider: 'builtin', target: 'wave:x', workloads: ['Deployment/none/none'], baseline: {}, revision: NEW.revision, checks: [{ name: 'proxy-restarts', max: 0 }], proxyContainer: 'istio-proxy' }, { observed, now: NOW });
    assert.deepEqual(reading, { name: 'builtin:proxy-restarts', kind: 'noData' });
  });
});
