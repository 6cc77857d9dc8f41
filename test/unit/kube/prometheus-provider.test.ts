// The Prometheus client against canned HTTP answers (fault injection: the real query runs in the cluster tests).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queryPrometheus } from '../../../src/kube/metrics/prometheus.ts';

function answering(status: number, body: unknown): typeof fetch {
  return (() => Promise.resolve(new Response(JSON.stringify(body), { status }))) as typeof fetch;
}

const q = { name: 'error-ratio', query: 'sum(x)' };

describe('Prometheus readings', () => {
  it('a vector is every series, with its labels', async () => {
    const reading = await queryPrometheus('http://p:9090', q, answering(200, { status: 'success', data: { resultType: 'vector', result: [{ metric: { ns: 'a' }, value: [1, '0.25'] }, { metric: { ns: 'b' }, value: [1, '+Inf'] }] } }));
    assert.deepEqual(reading, { name: 'error-ratio', kind: 'series', series: [{ labels: { ns: 'a' }, value: 0.25 }, { labels: { ns: 'b' }, value: Number.POSITIVE_INFINITY }] });
  });
  it('a scalar is one series without labels; NaN stays NaN', async () => {
    const reading = await queryPrometheus('http://p:9090', q, answering(200, { status: 'success', data: { resultType: 'scalar', result: [1, 'NaN'] } }));
    assert.equal(reading.kind, 'series');
    assert.ok(reading.kind === 'series' && reading.series.length === 1 && Number.isNaN(reading.series[0]?.value));
  });
  it('an empty vector is no data', async () => {
    assert.deepEqual(await queryPrometheus('http://p:9090', q, answering(200, { status: 'success', data: { resultType: 'vector', result: [] } })), { name: 'error-ratio', kind: 'noData' });
  });
  it("a query Prometheus rejects is invalid (the query's fault), with Prometheus's message", async () => {
    const reading = await queryPrometheus('http://p:9090', q, answering(400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 4' }));
    assert.equal(reading.kind, 'invalid');
    assert.match(reading.kind === 'invalid' ? reading.message : '', /400 bad_data\): parse error/);
  });
  it("a 503 is an error (the provider's fault, not the workloads')", async () => {
    const reading = await queryPrometheus('http://p:9090', q, answering(503, { status: 'error', errorType: 'unavailable', error: 'overloaded' }));
    assert.equal(reading.kind, 'error');
  });
  it('an unreachable Prometheus is an error, never a throw', async () => {
    const reading = await queryPrometheus('http://p:9090', q, (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch);
    assert.equal(reading.kind, 'error');
    assert.match(reading.kind === 'error' ? reading.message : '', /cannot query Prometheus at http:\/\/p:9090: TypeError: fetch failed/);
  });
  it('builds the query URL under the address path', async () => {
    let seen = '';
    const capture = ((url: URL) => {
      seen = url.toString();
      return Promise.resolve(new Response(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } })));
    }) as unknown as typeof fetch;
    await queryPrometheus('http://p:9090/prom', { name: 'x', query: 'up{a="b"}' }, capture);
    assert.equal(seen, 'http://p:9090/prom/api/v1/query?query=up%7Ba%3D%22b%22%7D');
  });
});
