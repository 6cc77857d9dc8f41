// Soak gates: what to query, and how one reading of a check is judged. A soak's clock is the
// lastTransitionTime of SoakPassed, which moves to Unknown when a soak starts.
import type { CheckResult, IstioUpgrade } from '../api/schema.ts';
import type { Draft } from './draft.ts';
import { parseDuration } from './duration.ts';
import type { MetricReading } from './observed.ts';

export const GATEWAYS_TARGET = 'gateways';

export function waveTarget(wave: string): string {
  return `wave:${wave}`;
}

export function startSoak(draft: Draft, target: string, namespaces: readonly string[]): void {
  draft.status.soak = { target, failures: 0 };
  draft.setCondition('SoakPassed', 'Unknown', 'Soaking', `soaking ${target} (namespaces ${namespaces.join(', ') || 'none'}) for ${draft.spec.soak.duration}`);
}

/** Namespaces the current soak watches: the gateways' or the wave's. */
export function soakNamespaces(upgrade: IstioUpgrade, target: string): string[] {
  if (target === GATEWAYS_TARGET) return [...new Set(upgrade.spec.gateways.map((g) => g.namespace))].sort();
  const wave = upgrade.status.waves?.find((w) => waveTarget(w.name) === target);
  return wave?.namespaces ?? [];
}

export interface SoakQuery {
  readonly name: string;
  readonly query: string;
}

/** Milliseconds since the last evaluation of the soak under way (infinite before the first). */
export function sinceLastEvaluation(lastEvaluatedAt: string | undefined, nowMs: number): number {
  return lastEvaluatedAt === undefined ? Number.POSITIVE_INFINITY : nowMs - Date.parse(lastEvaluatedAt);
}

/** What src/kube must measure for the planner: one request per provider; the planner only sees the readings. */
export type SoakRequest = {
  readonly provider: 'prometheus';
  readonly target: string;
  readonly address: string;
  readonly queries: readonly SoakQuery[];
};

export type SoakProviderName = SoakRequest['provider'];

/**
 * The measurements src/kube must take for the soak under way: none when no soak is, or when the next
 * evaluation is not due yet, so Prometheus is queried once per interval, not once per pass.
 */
export function soakRequests(upgrade: IstioUpgrade, now: Date): SoakRequest[] {
  const prometheus = upgrade.spec.soak.prometheus;
  const soak = upgrade.status.soak;
  if (prometheus === undefined || soak === undefined || upgrade.status.phase !== 'Soaking') return [];
  if (sinceLastEvaluation(soak.lastEvaluatedAt, now.getTime()) < parseDuration(prometheus.interval)) return [];
  const regex = soakNamespaces(upgrade, soak.target).join('|');
  return [{
    provider: 'prometheus',
    target: soak.target,
    address: prometheus.address,
    queries: prometheus.checks.map((c) => ({ name: c.name, query: c.query.replaceAll('{{namespaces}}', regex) })),
  }];
}

export function judgeReading(
  check: { name: string; max?: number | undefined; min?: number | undefined; failOnNoData: boolean },
  reading: MetricReading | undefined,
): CheckResult {
  if (reading === undefined) return { name: check.name, outcome: 'Error', message: 'no reading was taken' };
  switch (reading.kind) {
    case 'error':
      return { name: check.name, outcome: 'Error', message: reading.message };
    case 'noData':
      return { name: check.name, outcome: check.failOnNoData ? 'Failed' : 'NoData', message: 'query returned no data' };
    case 'value': {
      const { value } = reading;
      if (Number.isNaN(value)) return { name: check.name, outcome: check.failOnNoData ? 'Failed' : 'NoData', value: 0, message: 'query returned NaN (no traffic)' };
      if (check.max !== undefined && value > check.max) return { name: check.name, outcome: 'Failed', value, message: `${value} > max ${check.max}` };
      if (check.min !== undefined && value < check.min) return { name: check.name, outcome: 'Failed', value, message: `${value} < min ${check.min}` };
      return { name: check.name, outcome: 'Passed', value };
    }
  }
}
