import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IstioUpgrade, IstioUpgradeSpecInput } from '../../src/api/schema.ts';
import { findCondition } from '../../src/core/conditions.ts';
import type { MetricReading } from '../../src/core/observed.ts';
import { plan } from '../../src/core/plan.ts';
import { judgeReading, soakRequests } from '../../src/core/soak.ts';
import { E2E_SPEC, makeUpgrade, sampleMesh } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

const check: { name: string; max?: number | undefined; min?: number | undefined; failOnNoData: boolean } = { name: 'error-ratio', max: 0.01, failOnNoData: false };

describe('judging one reading', () => {
  const cases: { name: string; reading: MetricReading | undefined; check?: Partial<typeof check>; outcome: string }[] = [
    { name: 'below max passes', reading: { name: 'error-ratio', kind: 'value', value: 0.001 }, outcome: 'Passed' },
    { name: 'equal to max passes', reading: { name: 'error-ratio', kind: 'value', value: 0.01 }, outcome: 'Passed' },
    { name: 'above max fails', reading: { name: 'error-ratio', kind: 'value', value: 0.2 }, outcome: 'Failed' },
    { name: 'below min fails', reading: { name: 'error-ratio', kind: 'value', value: 5 }, check: { max: undefined, min: 10 }, outcome: 'Failed' },
    { name: 'no data is inconclusive by default', reading: { name: 'error-ratio', kind: 'noData' }, outcome: 'NoData' },
    { name: 'NaN (0/0, no traffic) is no data', reading: { name: 'error-ratio', kind: 'value', value: Number.NaN }, outcome: 'NoData' },
    { name: 'no data fails when asked', reading: { name: 'error-ratio', kind: 'noData' }, check: { failOnNoData: true }, outcome: 'Failed' },
    { name: 'provider error', reading: { name: 'error-ratio', kind: 'error', message: 'connection refused' }, outcome: 'Error' },
    { name: 'missing reading', reading: undefined, outcome: 'Error' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(judgeReading({ ...check, ...c.check }, c.reading).outcome, c.outcome);
    });
  }
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
    const queries = soakRequests(held.upgrade, held.now)[0];
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

  it('no traffic at all (NaN ratios) passes the soak and says so in SoakPassed', () => {
    const mesh = new FakeMesh(sampleMesh());
    const result = walk(makeUpgrade(PROM), mesh, { errorRatio: () => Number.NaN });
    assert.equal(result.upgrade.status.phase, 'Succeeded');
    assert.match(findCondition(result.upgrade.status.conditions ?? [], 'SoakPassed')?.message ?? '', /no data for error-ratio/);
  });

  it('provider errors count as bad evaluations and are reported as MetricsUnavailable', () => {
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
  });
});

describe('soak queries are due once per interval', () => {
  it('returns the queries only when an evaluation is due', () => {
    const mesh = new FakeMesh(sampleMesh());
    const held = walk(makeUpgrade(PROM), mesh, { stopWhen: (u) => u.status.phase === 'Soaking' && u.status.soak?.lastEvaluatedAt !== undefined });
    const last = Date.parse(held.upgrade.status.soak?.lastEvaluatedAt ?? '');
    assert.deepEqual(soakRequests(held.upgrade, new Date(last + 29_000)), []);
    assert.equal(soakRequests(held.upgrade, new Date(last + 30_000))[0]?.target, held.upgrade.status.soak?.target);
  });
});
