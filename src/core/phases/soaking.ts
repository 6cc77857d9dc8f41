// Soaking: hold after the gateways and after each wave for spec.soak.duration of measured time. The built-in
// signals (restarts, CrashLoopBackOff, pods not Ready, the new istiod) are judged on every pass and fail the soak
// at once; the Prometheus checks every interval, each series of each check, with two budgets: bad values
// (failureLimit, SoakFailed) and unanswered queries (metricsUnavailableLimit, MetricsUnavailable; the clock holds
// meanwhile). A check that saw no data in the whole soak fails it (NoTraffic) unless it allows that.
import type { CheckResult } from '../../api/schema.ts';
import type { Draft } from '../draft.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { builtinChecks, GATEWAYS_TARGET, judgeReading, sinceLastEvaluation, waveTarget } from '../soak.ts';
import { fail, next, working, type StepOutcome } from '../step.ts';

const MIN_REQUEUE_MS = 1_000;
const BUILTIN_REQUEUE_MS = 5_000;

function describe(results: readonly CheckResult[]): string {
  return results.map((r) => `${r.name}=${r.outcome}${r.message === undefined ? '' : ` (${r.message})`}`).join(', ');
}

export function soaking(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const soak = draft.status.soak;
  if (soak === undefined) return fail('SoakStateLost', 'status.soak is missing while Soaking; the status was edited by hand');

  const durationMs = parseDuration(spec.soak.duration);
  const sample = observed.metrics?.target === soak.target ? observed.metrics : undefined;
  const readings = new Map((sample?.readings ?? []).map((r) => [r.name, r]));
  const results: CheckResult[] = [];

  // Built-in signals: any one out of bounds fails the soak.
  const builtin = builtinChecks(spec);
  if (builtin.length > 0 && sample !== undefined) {
    const judged = builtin.map((c) => judgeReading({ name: `builtin:${c.name}`, max: c.max }, readings.get(`builtin:${c.name}`)));
    const bad = judged.filter((r) => r.outcome === 'Failed');
    results.push(...judged);
    if (bad.length > 0) return fail('SoakFailed', `soak of ${soak.target} failed on a built-in signal: ${describe(bad)}`);
  }

  const prometheus = spec.soak.prometheus;
  let nextLookMs = builtin.length > 0 ? BUILTIN_REQUEUE_MS : Number.POSITIVE_INFINITY;
  if (prometheus !== undefined) {
    const intervalMs = parseDuration(prometheus.interval);
    const sinceLast = sinceLastEvaluation(soak.lastEvaluatedAt, draft.nowMs);
    const measured = prometheus.checks.some((c) => readings.has(c.name));
    if (sinceLast >= intervalMs && measured) {
      const judged = prometheus.checks.map((check) => judgeReading(check, readings.get(check.name)));
      const unanswered = judged.every((r) => r.outcome === 'Error');
      if (unanswered) {
        // Nothing was measured: the soak clock holds, and the provider's own budget is spent.
        const sinceStart = draft.sinceTransition('SoakPassed');
        soak.heldMs = (soak.heldMs ?? 0) + Math.min(Number.isFinite(sinceLast) ? sinceLast : sinceStart, Math.max(intervalMs, 0));
        soak.unavailable = (soak.unavailable ?? 0) + 1;
        draft.event('Warning', 'SoakCheckFailed', `${soak.target}: metrics unavailable (${describe(judged)}); ${soak.unavailable}/${prometheus.metricsUnavailableLimit} tolerated, the soak clock holds`);
        if (soak.unavailable > prometheus.metricsUnavailableLimit) {
          return fail('MetricsUnavailable', `soak of ${soak.target}: the metrics provider could not answer ${soak.unavailable} time(s): ${describe(judged)}`);
        }
      } else {
        const bad = judged.filter((r) => r.outcome === 'Failed');
        soak.failures += bad.length > 0 ? 1 : 0;
        soak.sawData = [...new Set([...(soak.sawData ?? []), ...judged.filter((r) => r.outcome === 'Passed' || r.outcome === 'Failed').map((r) => r.name)])].sort();
        if (bad.length > 0) draft.event('Warning', 'SoakCheckFailed', `${soak.target}: ${describe(bad)} (${soak.failures}/${prometheus.failureLimit} tolerated)`);
        if (soak.failures > prometheus.failureLimit) return fail('SoakFailed', `soak of ${soak.target} failed after ${soak.failures} bad evaluation(s): ${describe(bad)}`);
      }
      soak.lastEvaluatedAt = draft.now.toISOString();
      results.push(...judged);
      nextLookMs = Math.min(nextLookMs, intervalMs);
    } else {
      results.push(...(soak.results ?? []).filter((r) => !r.name.startsWith('builtin:')));
      nextLookMs = Math.min(nextLookMs, Number.isFinite(sinceLast) ? intervalMs - sinceLast : MIN_REQUEUE_MS);
    }
  }
  if (results.length > 0) soak.results = results;

  const elapsed = Math.max(0, draft.sinceTransition('SoakPassed') - (soak.heldMs ?? 0));
  const requeue = (ms: number) => Math.max(MIN_REQUEUE_MS, Math.min(ms, nextLookMs));
  // A soak with checks passes only after at least one answered evaluation.
  if (prometheus !== undefined && soak.lastEvaluatedAt === undefined) {
    return working('Soaking', `soaking ${soak.target}: waiting for the first metrics evaluation`, [], requeue(durationMs));
  }
  if (elapsed < durationMs) {
    const checks = soak.results === undefined ? '' : `; last checks: ${describe(soak.results)}`;
    const held = (soak.heldMs ?? 0) > 0 ? ` (clock held ${formatDuration(soak.heldMs ?? 0)} while metrics were unavailable)` : '';
    return working('Soaking', `soaking ${soak.target}: ${formatDuration(elapsed)} of ${spec.soak.duration}${held}${checks}`, [], requeue(durationMs - elapsed));
  }

  const silent = (prometheus?.checks ?? []).filter((c) => !c.allowNoData && !(soak.sawData ?? []).includes(c.name)).map((c) => c.name);
  if (silent.length > 0) {
    return fail('NoTraffic', `soak of ${soak.target} measured nothing: no data for ${silent.join(', ')} during the whole soak (no traffic, or a query that matches no series); send traffic, fix the query, or set allowNoData on the check`);
  }
  const allowed = (prometheus?.checks ?? []).filter((c) => c.allowNoData && !(soak.sawData ?? []).includes(c.name)).map((c) => c.name);
  const note = allowed.length > 0 ? `; no data for ${allowed.join(', ')} (allowNoData)` : '';
  draft.setCondition('SoakPassed', 'True', 'SoakPassed', `soak of ${soak.target} passed after ${spec.soak.duration}${note}`);
  if (soak.target !== GATEWAYS_TARGET) {
    const wave = draft.status.waves?.find((w) => waveTarget(w.name) === soak.target);
    if (wave !== undefined) {
      wave.state = 'Succeeded';
      wave.completedAt = draft.now.toISOString();
    }
  }
  return next('RollingOut', `soak of ${soak.target} passed${note}`, 'SoakPassed');
}
