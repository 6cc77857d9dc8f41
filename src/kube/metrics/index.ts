// Soak measurement providers. A provider turns one of the planner's SoakRequests into readings; the planner
// never sees a provider. A new provider: a request shape in src/core/soak.ts, one file here, one registry line.
import type { MetricReading, ObservedState } from '../../core/observed.ts';
import type { SoakProviderName, SoakRequest } from '../../core/soak.ts';
import { builtinProvider } from './builtin.ts';
import { prometheusProvider } from './prometheus.ts';

/** What a provider may look at besides its request: the cluster as just observed, and the time. */
export interface ProviderContext {
  readonly observed: Omit<ObservedState, 'metrics'>;
  readonly now: Date;
}

export interface SoakProvider<R extends SoakRequest> {
  read(request: R, context: ProviderContext): Promise<MetricReading[]>;
}

type Registry = { readonly [P in SoakProviderName]: SoakProvider<Extract<SoakRequest, { provider: P }>> };

export const SOAK_PROVIDERS: Registry = {
  prometheus: prometheusProvider,
  builtin: builtinProvider,
};

function read(registry: Registry, request: SoakRequest, context: ProviderContext): Promise<MetricReading[]> {
  // The mapped Registry type pairs each provider with its own request shape, which TypeScript cannot follow
  // through an indexed access on a union: widen once here.
  const provider = registry[request.provider] as SoakProvider<SoakRequest>;
  return provider.read(request, context);
}

/** Every reading of every request, in request order. */
export async function readSoak(requests: readonly SoakRequest[], context: ProviderContext, registry: Registry = SOAK_PROVIDERS): Promise<MetricReading[]> {
  const results = await Promise.all(requests.map((r) => read(registry, r, context)));
  return results.flat();
}
