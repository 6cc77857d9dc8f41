// Soak gates: what to measure, for which target, and how a reading is judged. A soak's clock is the
// lastTransitionTime of SoakPassed (which moves to Unknown when a soak starts), minus the time nothing could be
// measured. The planner asks the providers in src/kube for readings (prometheus, builtin) and sees only those.
import type { CheckResult, IstioUpgrade, IstioUpgradeSpec } from '../api/schema.ts';
import { ISTIO_PROXY_CONTAINER } from '../api/constants.ts';
import type { Draft } from './draft.ts';
import { parseDuration } from './duration.ts';
import type { MetricReading, Series, WorkloadState } from './observed.ts';

export const GATEWAYS_TARGET = 'gateways';
/** The target of the query validation at the precheck. */
export const PRECHECK_TARGET = 'precheck';
/** Most workloads named in status.soak (and {{workloads}}); beyond it, {{workloads}} matches any name. */
const MAX_SOAK_WORKLOADS = 200;

export function waveTarget(wave: string): string {
  return `wave:${wave}`;
}

/** What a soak watches: namespaces and workloads, and from which side istio_requests_total sees them. */
export interface SoakSubject {
  readonly namespaces: readonly string[];
  /** Workload names ({{workloads}}); empty: any. */
  readonly workloads: readonly string[];
  readonly side: 'source' | 'destination';
}

/** Namespaces the current soak watches: the gateways' or the wave's. */
export function soakNamespaces(upgrade: IstioUpgrade, target: string): string[] {
  if (target === GATEWAYS_TARGET) {
    const releases = upgrade.spec.installer.mode === 'helm' ? upgrade.spec.installer.helm.gateways : [];
    return [...new Set([...upgrade.spec.gateways, ...releases].map((g) => g.namespace))].sort();
  }
  const wave = upgrade.status.waves?.find((w) => waveTarget(w.name) === target);
  return wave?.namespaces ?? [];
}

export function soakSubject(upgrade: IstioUpgrade, target: string): SoakSubject {
  const keys = upgrade.status.soak?.target === target ? (upgrade.status.soak.workloads ?? []) : [];
  return {
    namespaces: soakNamespaces(upgrade, target),
    workloads: [...new Set(keys.map((k) => k.split('/')[2] ?? ''))].filter((n) => n !== '').sort(),
    side: target === GATEWAYS_TARGET ? 'source' : 'destination',
  };
}

/** The query with its placeholders filled in for a subject. */
export function expandQuery(query: string, subject: SoakSubject): string {
  const regex = (names: readonly string[]) => (names.length === 0 ? '.+' : names.join('|'));
  return query
    .replaceAll('{{namespaces}}', regex(subject.namespaces))
    .replaceAll('{{workloads}}', regex(subject.workloads))
    .replaceAll('{{reporter}}', subject.side)
    .replaceAll('{{namespace_label}}', `${subject.side}_workload_namespace`)
    .replaceAll('{{workload_label}}', `${subject.side}_workload`);
}

export function workloadRef(w: Pick<WorkloadState, 'kind' | 'namespace' | 'name'>): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

/** Starts a soak of `workloads`; their containers' restart counts now are the baseline the soak compares with. */
export function startSoak(draft: Draft, target: string, namespaces: readonly string[], workloads: readonly WorkloadState[]): void {
  const baseline: Record<string, number> = {};
  // The new istiod too: its restarts during the soak count against it.
  const istiod = draft.observed.workloads.filter((w) => w.namespace === draft.observed.istioNamespace && w.labels.app === 'istiod' && w.labels['istio.io/rev'] === draft.toRevision);
  for (const w of [...workloads, ...istiod]) {
    for (const pod of w.pods) for (const c of pod.containers) if (c.restarts > 0) baseline[`${pod.namespace}/${pod.name}/${c.name}`] = c.restarts;
  }
  draft.status.soak = {
    target,
    failures: 0,
    unavailable: 0,
    heldMs: 0,
    workloads: workloads.slice(0, MAX_SOAK_WORKLOADS).map(workloadRef),
    ...(Object.keys(baseline).length > 0 ? { baseline } : {}),
  };
  draft.setCondition('SoakPassed', 'Unknown', 'Soaking', `soaking ${target} (namespaces ${namespaces.join(', ') || 'none'}) for ${draft.spec.soak.duration}`);
}

export interface SoakQuery {
  readonly name: string;
  readonly query: string;
}

/** The signals of the built-in provider, with the largest value each may reach. */
export interface BuiltinCheck {
  readonly name: 'proxy-restarts' | 'app-restarts' | 'crash-loop' | 'not-ready' | 'istiod';
  readonly max: number;
}

export function builtinChecks(spec: IstioUpgradeSpec): BuiltinCheck[] {
  const b = spec.soak.builtin;
  if (!b.enabled) return [];
  const notReadySeconds = parseDuration(b.notReadyFor) / 1000;
  return [
    ...(b.proxyRestarts ? [{ name: 'proxy-restarts' as const, max: 0 }] : []),
    ...(b.appRestarts ? [{ name: 'app-restarts' as const, max: 0 }] : []),
    ...(b.crashLoopBackOff ? [{ name: 'crash-loop' as const, max: 0 }] : []),
    ...(notReadySeconds > 0 ? [{ name: 'not-ready' as const, max: notReadySeconds }] : []),
    ...(b.istiod ? [{ name: 'istiod' as const, max: 0 }] : []),
  ];
}

/** What src/kube must measure for the planner; the planner only sees the readings. */
export type SoakRequest =
  | {
      readonly provider: 'prometheus';
      readonly target: string;
      readonly address: string;
      readonly queries: readonly SoakQuery[];
    }
  | {
      readonly provider: 'builtin';
      readonly target: string;
      /** kind/namespace/name of the workloads under soak. */
      readonly workloads: readonly string[];
      /** namespace/pod/container -> restart count when the soak began (absent: 0). */
      readonly baseline: Readonly<Record<string, number>>;
      /** The revision whose istiod must stay up. */
      readonly revision: string;
      readonly checks: readonly BuiltinCheck[];
      readonly proxyContainer: string;
    };

export type SoakProviderName = SoakRequest['provider'];

/** Milliseconds since the last evaluation of the soak under way (infinite before the first). */
export function sinceLastEvaluation(lastEvaluatedAt: string | undefined, nowMs: number): number {
  return lastEvaluatedAt === undefined ? Number.POSITIVE_INFINITY : nowMs - Date.parse(lastEvaluatedAt);
}

function validationRequest(upgrade: IstioUpgrade): SoakRequest[] {
  const prometheus = upgrade.spec.soak.prometheus;
  const phase = upgrade.status.phase;
  if (prometheus === undefined || upgrade.status.queriesChecked === true || (phase !== undefined && phase !== 'Pending' && phase !== 'Prechecking')) return [];
  const sample: SoakSubject = { namespaces: ['default'], workloads: [], side: 'destination' };
  return [{
    provider: 'prometheus',
    target: PRECHECK_TARGET,
    address: prometheus.address,
    queries: prometheus.checks.flatMap((c) => [
      { name: c.name, query: expandQuery(c.query, sample) },
      ...(c.gatewayQuery === undefined ? [] : [{ name: `${c.name}/gateways`, query: expandQuery(c.gatewayQuery, { ...sample, side: 'source' }) }]),
    ]),
  }];
}

/**
 * The measurements src/kube must take now: the validation of the queries during the precheck, then during a
 * soak the built-in signals on every pass and Prometheus once per interval.
 */
export function soakRequests(upgrade: IstioUpgrade, now: Date): SoakRequest[] {
  const validation = validationRequest(upgrade);
  if (validation.length > 0) return validation;
  const soak = upgrade.status.soak;
  if (soak === undefined || upgrade.status.phase !== 'Soaking') return [];
  const requests: SoakRequest[] = [];
  const checks = builtinChecks(upgrade.spec);
  if (checks.length > 0) {
    requests.push({
      provider: 'builtin',
      target: soak.target,
      workloads: soak.workloads ?? [],
      baseline: soak.baseline ?? {},
      revision: upgrade.status.toRevision ?? '',
      checks,
      proxyContainer: ISTIO_PROXY_CONTAINER,
    });
  }
  const prometheus = upgrade.spec.soak.prometheus;
  if (prometheus !== undefined && sinceLastEvaluation(soak.lastEvaluatedAt, now.getTime()) >= parseDuration(prometheus.interval)) {
    const subject = soakSubject(upgrade, soak.target);
    requests.push({
      provider: 'prometheus',
      target: soak.target,
      address: prometheus.address,
      queries: prometheus.checks.map((c) => ({ name: c.name, query: expandQuery(soak.target === GATEWAYS_TARGET ? (c.gatewayQuery ?? c.query) : c.query, subject) })),
    });
  }
  return requests;
}

function describeSeries(s: Series): string {
  const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`).join(',');
  return labels === '' ? String(s.value) : `{${labels}} ${s.value}`;
}

export interface CheckBounds {
  readonly name: string;
  readonly max?: number | undefined;
  readonly min?: number | undefined;
}

/** How far a value is out of bounds (0: within); NaN is not a value (0/0: no traffic). */
function excess(value: number, check: CheckBounds): number {
  if (check.max !== undefined && value > check.max) return value === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : value - check.max;
  if (check.min !== undefined && value < check.min) return value === Number.NEGATIVE_INFINITY ? Number.MAX_VALUE : check.min - value;
  return 0;
}

/**
 * One check's verdict over every series of its reading: Failed when any series is out of bounds (the message
 * names the worst, with its labels); NoData when there is no series or only NaN; Error when the provider could
 * not answer; a query the provider rejects is Failed (it can never pass).
 */
export function judgeReading(check: CheckBounds, reading: MetricReading | undefined): CheckResult {
  if (reading === undefined) return { name: check.name, outcome: 'Error', message: 'no reading was taken' };
  switch (reading.kind) {
    case 'error':
      return { name: check.name, outcome: 'Error', message: reading.message.slice(0, 1024) };
    case 'invalid':
      return { name: check.name, outcome: 'Failed', message: `the query was rejected: ${reading.message}`.slice(0, 1024) };
    case 'noData':
      return { name: check.name, outcome: 'NoData', series: 0, message: 'no data' };
    case 'series': {
      const real = reading.series.filter((s) => !Number.isNaN(s.value));
      if (real.length === 0) return { name: check.name, outcome: 'NoData', series: reading.series.length, message: reading.series.length === 0 ? 'no data' : 'only NaN (no traffic)' };
      const worst = real.reduce((a, b) => (excess(b.value, check) > excess(a.value, check) || (excess(b.value, check) === excess(a.value, check) && b.value > a.value) ? b : a));
      const bound = check.max !== undefined && worst.value > check.max ? `> max ${check.max}` : check.min !== undefined && worst.value < check.min ? `< min ${check.min}` : '';
      const value = Number.isFinite(worst.value) ? worst.value : undefined;
      if (bound !== '') return { name: check.name, outcome: 'Failed', ...(value === undefined ? {} : { value }), series: real.length, message: `${describeSeries(worst)} ${bound}`.slice(0, 1024) };
      return { name: check.name, outcome: 'Passed', ...(value === undefined ? {} : { value }), series: real.length, ...(real.length > 1 ? { message: `worst of ${real.length}: ${describeSeries(worst)}`.slice(0, 1024) } : {}) };
    }
  }
}
