import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IstioUpgrade, IstioUpgradeSpecInput } from '../../src/api/schema.ts';
import { findCondition } from '../../src/core/conditions.ts';
import type { MetricReading } from '../../src/core/observed.ts';
import { plan } from '../../src/core/plan.ts';
import { expandQuery, judgeReading, soakRequests } from '../../src/core/soak.ts';
import { E2E_SPEC, makeUpgrade, sampleMesh } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

const check = { name: 'error-ratio', max: 0.01 };
const one = (value: number, labels: Record<string, string> = {}): MetricReading => ({ name: 'error-ratio', kind: 'series', series: [{ labels, value }] });

describe('judging one reading', () => {
  const cases: { name: string; reading: MetricReading | undefined; bounds?: { max?: number; min?: number }; outcome: string; message?: RegExp }[] = [
    { name: 'below max passes', reading: one(0.001), outcome: 'Passed' },
    { name: 'equal to max passes', reading: one(0.01), outcome: 'Passed' },
    { name: 'above max fails', reading: one(0.2), outcome: 'Failed', message: /^0\.2 > max 0\.01$/ },
    { name: 'below min fails', reading: one(5), bounds: { min: 10 }, outcome: 'Failed' },
    { name: 'no series is no data', reading: { name: 'error-ratio', kind: 'noData' }, outcome: 'NoData' },
    { name: 'NaN (0/0, no traffic) is no data', reading: one(Number.NaN), outcome: 'NoData' },
    { name: '+Inf is above any max', reading: one(Number.POSITIVE_INFINITY), outcome: 'Failed', message: /Infinity > max/ },
    { name: '-Inf is below any min', reading: one(Number.NEGATIVE_INFINITY), bounds: { min: 0.9 }, outcome: 'Failed' },
    { name: '+Inf passes a min-only check', reading: one(Number.POSITIVE_INFINITY), bounds: { min: 0.9 }, outcome: 'Passed' },
    {
      name: 'every series is judged; the worst is named with its labels',
      reading: { name: 'error-ratio', kind: 'series', series: [{ labels: { ns: 'a' }, value: 0 }, { labels: { ns: 'b' }, value: 0.3 }, { labels: { ns: 'c' }, value: 0.05 }] },
      outcome: 'Failed',
      message: /^\{ns="b"\} 0\.3 > max 0\.01$/,
    },
    { name: 'NaN series are skipped, the others judged', reading: { name: 'error-ratio', kind: 'series', series: [{ labels: { ns: 'a' }, value: Number.NaN }, { labels: { ns: 'b' }, value: 0.2 }] }, outcome: 'Failed' },
    { name: 'provider error', reading: { name: 'error-ratio', kind: 'error', message: 'connection refused' }, outcome: 'Error' },
    { name: 'a rejected query fails', reading: { name: 'error-ratio', kind: 'invalid', message: 'parse error' }, outcome: 'Failed' },
    { name: 'missing reading', reading: undefined, outcome: 'Error' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = judgeReading({ ...check, ...c.bounds, ...(c.bounds?.min !== undefined && c.bounds.max === undefined ? { max: undefined } : {}) }, c.reading);
      assert.equal(result.outcome, c.outcome);
      if (c.message !== undefined) assert.match(result.message ?? '', c.message);
    });
  }
});

describe('placeholders', () => {
  const subject = { namespaces: ['bar', 'foo'], workloads: ['api', 'web'], side: 'destination' as const };
  it('fill namespaces, workloads, reporter and the side of the labels', () => {
    assert.equal(
      expandQuery('x{reporter="{{reporter}}",{{namespace_label}}=~"{{namespaces}}",{{workload_label}}=~"{{workloads}}"}', subject),
      'x{reporter="destination",destination_workload_namespace=~"bar|foo",destination_workload=~"api|web"}',
    );
    assert.equal(expandQuery('{{namespace_label}} {{workload_label}} {{reporter}}', { ...subject, side: 'source' }), 'source_workload_namespace source_workload source');
    assert.equal(expandQuery('{{workloads}}', { ...subject, workloads: [] }), '.+', 'no names: any');
  });
});

const PROM: Partial<IstioUpgradeSpecInput> = {
  ...E2E_SPEC,
  soak: {
    duration: '5m',
    prometheus: {
      address: 'http://prometheus:9090',
      interval: '30s',
      failureLimit: 2,
      checks: [{ name: 'error-ratio', query: 'sum(rate(x{ns=~"{{namespaces}}",code=~"5.."}[1m])) / sum(rate(x{ns=~"{{namespaces}}"}[1m]))', max: 0.01 }],
    },
  },
};

describe('soak', () => {
  it('expands {{namespaces}} to the namespaces under soak', () => {
    const mesh = new FakeMesh(sampleMesh());
    const held = walk(makeUpgrade(PROM), mesh, { stopWhen: (u) => u.status.phase === 'Soaking' && u.status.soak?.target === 'wave:rest' });
    const queries = soakRequests(held.upgrade, held.now).find((r) => r.provider === 'prometheus');
    assert.equal(queries?.target, 'wave:rest');
    assert.equal(queries.address, 'http://prometheus:9090');
    assert.match(queries.queries[0]?.query ?? '', /ns=~"baz\|foo\|istio-ingress\|qux"/);
    assert.doesNotMatch(queries.queries[0]?.query ?? '', /\{\{/);
  });

  it('measures its duration from SoakPassed.lastTransitionTime', () => {
    const mesh = new FakeMesh(sampleMesh());
    const held = walk(makeUpgrade(E2E_SPEC), mesh, { stopWhen: (u) => u.status.phase === 'Soaking' });
    const since = findCondition(held.upgrade.status.conditions ?? [], 'SoakPassed');
    assert.equal(since?.status, 'Unknown');
    const start = Date.parse(since.lastTransitionTime);
    const justBefore = plan(held.upgrade, mesh.observed, new Date(start + 5 * 60_000 - 1000));
    assert.equal(justBefore.status.phase, 'Soaking');
    assert.equal(justBefore.requeueAfterMs, 1000, 'looks again when the soak is due');
    const after = plan(held.upgrade, mesh.observed, new Date(start + 5 * 60_000));
    assert.notEqual(after.status.phase, 'Soaking');
    assert.equal(findCondition(after.status.conditions ?? [], 'SoakPassed')?.status, 'True');
  });

  const failureCases: { name: string; ratio: (n: number) => number; phase: string; reason?: string }[] = [
    { name: 'tolerates failureLimit bad evaluations', ratio: (n) => (n < 2 ? 0.5 : 0), phase: 'Succeeded' },
    { name: 'fails on failureLimit + 1 bad evaluations', ratio: (n) => (n < 3 ? 0.5 : 0), phase: 'RolledBack', reason: 'SoakFailed' },
  ];
  for (const c of failureCases) {
    it(c.name, () => {
      const mesh = new FakeMesh(sampleMesh());
      let evaluations = 0;
      const result = walk(makeUpgrade(PROM), mesh, {
        errorRatio: (namespaces, upgrade: IstioUpgrade) => {
          if (!namespaces.includes('bar')) return 0;
          evaluations = upgrade.status.soak?.lastEvaluatedAt === undefined ? 0 : evaluations + 1;
          return c.ratio(evaluations);
        },
      });
      assert.equal(result.upgrade.status.phase, c.phase);
      if (c.reason !== undefined) assert.equal(result.upgrade.status.failure?.reason, c.reason);
    });
  }

  it('no traffic at all (NaN ratios) for a whole soak fails it with NoTraffic, and rolls back', () => {
    const mesh = new FakeMesh(sampleMesh());
    const result = walk(makeUpgrade(PROM), mesh, { errorRatio: () => Number.NaN });
    assert.equal(result.upgrade.status.phase, 'RolledBack');
    assert.equal(result.upgrade.status.failure?.reason, 'NoTraffic');
    assert.match(result.upgrade.status.failure.message, /no data for error-ratio during the whole soak/);
  });

  it('no traffic passes a check that allows it, and the SoakPassed condition says so', () => {
    const mesh = new FakeMesh(sampleMesh());
    const allow = structuredClone(PROM);
    const checks = allow.soak?.prometheus?.checks ?? [];
    for (const c of checks) c.allowNoData = true;
    const result = walk(makeUpgrade(allow), mesh, { errorRatio: () => Number.NaN });
    assert.equal(result.upgrade.status.phase, 'Succeeded');
    assert.match(findCondition(result.upgrade.status.conditions ?? [], 'SoakPassed')?.message ?? '', /no data for error-ratio \(allowNoData\)/);
  });

  it('data in one evaluation is enough: traffic that stops mid-soak is not NoTraffic', () => {
    const mesh = new FakeMesh(sampleMesh());
    let n = 0;
    const result = walk(makeUpgrade(PROM), mesh, { errorRatio: () => (n++ % 3 === 0 ? 0 : Number.NaN) });
    assert.equal(result.upgrade.status.phase, 'Succeeded');
  });

  it('provider errors hold the soak clock, spend their own budget, and end as MetricsUnavailable', () => {
    const mesh = new FakeMesh(sampleMesh());
    const upgrade = makeUpgrade(PROM);
    const held = walk(upgrade, mesh, { stopWhen: (u) => u.status.phase === 'Soaking' });
    let state = held.upgrade;
    let now = held.now;
    for (let i = 0; i < 10 && state.status.phase === 'Soaking'; i++) {
      const target = state.status.soak?.target ?? '';
      const observed = { ...mesh.observed, metrics: { target, readings: [{ name: 'error-ratio', kind: 'error' as const, message: 'dial tcp: connection refused' }] } };
      const result = plan(state, observed, now);
      state = { ...state, status: result.status };
      now = new Date(now.getTime() + 30_000);
    }
    assert.equal(state.status.failure?.reason, 'MetricsUnavailable');
    assert.match(state.status.failure.message, /connection refused/);
    assert.equal(state.status.soak?.failures, 0, 'unanswered queries are not bad values');
  });

  it('while Prometheus cannot answer and the budget lasts, the soak neither passes nor fails', () => {
    const mesh = new FakeMesh(sampleMesh());
    const held = walk(makeUpgrade(PROM), mesh, { stopWhen: (u) => u.status.phase === 'Soaking' && u.status.soak?.lastEvaluatedAt !== undefined });
    let state = held.upgrade;
    let now = held.now;
    const down = (target: string) => ({ ...mesh.observed, metrics: { target, readings: [{ name: 'error-ratio', kind: 'error' as const, message: 'connection refused' }] } });
    // 3 unanswered evaluations (the default budget), 30 s apart, 1.5 min in all of a 5 min soak.
    for (let i = 0; i < 3; i++) {
      now = new Date(now.getTime() + 30_000);
      state = { ...state, status: plan(state, down(state.status.soak?.target ?? ''), now).status };
    }
    assert.equal(state.status.phase, 'Soaking');
    assert.equal(state.status.soak?.unavailable, 3);
    assert.equal(state.status.soak.heldMs, 90_000);
    // Prometheus is back: the soak ends 1.5 min later than it would have, not at once.
    const start = Date.parse(findCondition(state.status.conditions ?? [], 'SoakPassed')?.lastTransitionTime ?? '');
    const up = (target: string) => ({ ...mesh.observed, metrics: { target, readings: [{ name: 'error-ratio', kind: 'series' as const, series: [{ labels: {}, value: 0 }] }] } });
    const atFive = plan(state, up(state.status.soak.target), new Date(start + 5 * 60_000));
    assert.equal(atFive.status.phase, 'Soaking', 'unmeasured time does not count');
    const later = plan({ ...state, status: atFive.status }, up(state.status.soak.target), new Date(start + 6.5 * 60_000 + 1));
    assert.notEqual(later.status.phase, 'Soaking');
  });
});

describe('soak queries are due once per interval', () => {
  it('returns the queries only when an evaluation is due', () => {
    const mesh = new FakeMesh(sampleMesh());
    const held = walk(makeUpgrade(PROM), mesh, { stopWhen: (u) => u.status.phase === 'Soaking' && u.status.soak?.lastEvaluatedAt !== undefined });
    const last = Date.parse(held.upgrade.status.soak?.lastEvaluatedAt ?? '');
    const prometheus = (at: number) => soakRequests(held.upgrade, new Date(at)).filter((r) => r.provider === 'prometheus');
    assert.deepEqual(prometheus(last + 29_000), []);
    assert.equal(prometheus(last + 30_000)[0]?.target, held.upgrade.status.soak?.target);
    assert.ok(soakRequests(held.upgrade, new Date(last + 29_000)).some((r) => r.provider === 'builtin'), 'built-in signals every pass');
  });
});
