// Soak measurement providers. A provider turns one of the planner's SoakRequests into readings; the planner
// never sees a provider. A new provider: a request shape in src/core/soak.ts, one file here, one registry line.
import type { MetricReading } from '../../core/observed.ts';
import type { SoakProviderName, SoakRequest } from '../../core/soak.ts';
import { prometheusProvider } from './prometheus.ts';

export interface SoakProvider<R extends SoakRequest> {
  read(request: R): Promise<MetricReading[]>;
}

type Registry = { readonly [P in SoakProviderName]: SoakProvider<Extract<SoakRequest, { provider: P }>> };

export const SOAK_PROVIDERS: Registry = {
  prometheus: prometheusProvider,
};

function providerFor<P extends SoakProviderName>(registry: Registry, name: P): Registry[P] {
  return registry[name];
}

/** Every reading of every request, in request order. */
export async function readSoak(requests: readonly SoakRequest[], registry: Registry = SOAK_PROVIDERS): Promise<MetricReading[]> {
  const results = await Promise.all(requests.map((r) => providerFor(registry, r.provider).read(r)));
  return results.flat();
}
