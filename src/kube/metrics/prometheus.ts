// Runs the soak's PromQL against the Prometheus HTTP API. Every outcome is a reading, never a throw: the
// planner decides what an error or an empty result means.
import type { MetricReading } from '../../core/observed.ts';
import type { SoakQuery, SoakRequest } from '../../core/soak.ts';
import type { SoakProvider } from './index.ts';

const QUERY_TIMEOUT_MS = 10_000;

interface PromResponse {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

function sampleValue(result: unknown, resultType: string | undefined): number | undefined {
  if (resultType === 'scalar' && Array.isArray(result)) return Number(result[1]);
  if (resultType === 'vector' && Array.isArray(result)) {
    const first: unknown = result[0];
    if (typeof first === 'object' && first !== null && 'value' in first && Array.isArray(first.value)) return Number(first.value[1]);
  }
  return undefined;
}

export async function queryPrometheus(address: string, query: SoakQuery, fetchImpl: typeof fetch = fetch): Promise<MetricReading> {
  // Relative to the address, so a Prometheus served under a path prefix (http://host/prom) works too.
  const url = new URL('api/v1/query', address.endsWith('/') ? address : `${address}/`);
  url.searchParams.set('query', query.query);
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) });
    const body = (await response.json()) as PromResponse;
    if (!response.ok || body.status !== 'success') {
      return { name: query.name, kind: 'error', message: `Prometheus answered ${response.status}: ${body.error ?? 'no error message'}` };
    }
    const value = sampleValue(body.data?.result, body.data?.resultType);
    if (value === undefined) return { name: query.name, kind: 'noData' };
    return { name: query.name, kind: 'value', value };
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { name: query.name, kind: 'error', message: `cannot query Prometheus at ${address}: ${reason}` };
  }
}

export const prometheusProvider: SoakProvider<SoakRequest> = {
  read: (request) => Promise.all(request.queries.map((q) => queryPrometheus(request.address, q))),
};
