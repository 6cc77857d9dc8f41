// Runs the soak's PromQL against the Prometheus HTTP API. Every outcome is a reading, never a throw: the
// planner decides what an error or an empty result means. A query Prometheus rejects (400 bad_data, 422) is
// "invalid" (the query's fault); unreachable, 5xx and timeouts are "error" (the provider's).
import type { MetricReading, Series } from '../../core/observed.ts';
import type { SoakQuery, SoakRequest } from '../../core/soak.ts';
import type { SoakProvider } from './index.ts';

const QUERY_TIMEOUT_MS = 10_000;

interface PromResponse {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Prometheus sample values are strings: "0.25", "NaN", "+Inf", "-Inf" (which Number() does not read). */
function sampleNumber(raw: unknown): number {
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  return typeof raw === 'string' || typeof raw === 'number' ? Number(raw) : Number.NaN;
}

/** Every series of an instant query's result (a scalar is one series without labels). */
export function seriesOf(result: unknown, resultType: string | undefined): Series[] {
  if (resultType === 'scalar' && Array.isArray(result)) return [{ labels: {}, value: sampleNumber(result[1]) }];
  if (resultType !== 'vector' || !Array.isArray(result)) return [];
  return result.flatMap((item: unknown): Series[] => {
    if (!isRecord(item) || !Array.isArray(item.value)) return [];
    const metric = isRecord(item.metric) ? item.metric : {};
    const labels = Object.fromEntries(Object.entries(metric).filter((e): e is [string, string] => typeof e[1] === 'string'));
    return [{ labels, value: sampleNumber(item.value[1]) }];
  });
}

export async function queryPrometheus(address: string, query: SoakQuery, fetchImpl: typeof fetch = fetch): Promise<MetricReading> {
  // Relative to the address, so a Prometheus served under a path prefix (http://host/prom) works too.
  const url = new URL('api/v1/query', address.endsWith('/') ? address : `${address}/`);
  url.searchParams.set('query', query.query);
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) });
    const body = (await response.json().catch(() => ({}))) as PromResponse;
    if (response.status === 400 || response.status === 422 || body.errorType === 'bad_data') {
      return { name: query.name, kind: 'invalid', message: `Prometheus rejected the query (${response.status} ${body.errorType ?? ''}): ${body.error ?? 'no error message'}` };
    }
    if (!response.ok || body.status !== 'success') {
      return { name: query.name, kind: 'error', message: `Prometheus answered ${response.status}: ${body.error ?? 'no error message'}` };
    }
    const series = seriesOf(body.data?.result, body.data?.resultType);
    if (series.length === 0) return { name: query.name, kind: 'noData' };
    return { name: query.name, kind: 'series', series };
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { name: query.name, kind: 'error', message: `cannot query Prometheus at ${address}: ${reason}` };
  }
}

export const prometheusProvider: SoakProvider<Extract<SoakRequest, { provider: 'prometheus' }>> = {
  read: (request) => Promise.all(request.queries.map((q) => queryPrometheus(request.address, q))),
};
