// Soaking: hold after the gateways and after each wave, for spec.soak.duration, and judge the Prometheus
// checks every interval; too many bad evaluations fail the soak (and so roll back).
import type { CheckResult } from '../../api/schema.ts';
import type { Draft } from '../draft.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { GATEWAYS_TARGET, judgeReading, sinceLastEvaluation, waveTarget } from '../soak.ts';
import { fail, next, working, type StepOutcome } from '../step.ts';

const MIN_REQUEUE_MS = 1_000;

function describe(results: readonly CheckResult[]): string {
  return results.map((r) => `${r.name}=${r.outcome}${r.message === undefined ? '' : ` (${r.message})`}`).join(', ');
}

export function soaking(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const soak = draft.status.soak;
  if (soak === undefined) return fail('SoakStateLost', 'status.soak is missing while Soaking; the status was edited by hand');

  const durationMs = parseDuration(spec.soak.duration);
  const elapsed = draft.sinceTransition('SoakPassed');
  const prometheus = spec.soak.prometheus;
  let nextLookMs = durationMs - elapsed;

  if (prometheus !== undefined) {
    const intervalMs = parseDuration(prometheus.interval);
    const sinceLast = sinceLastEvaluation(soak.lastEvaluatedAt, draft.nowMs);
    const sample = observed.metrics?.target === soak.target ? observed.metrics : undefined;
    if (sinceLast >= intervalMs && sample !== undefined) {
      const results = prometheus.checks.map((check) => judgeReading(check, sample.readings.find((r) => r.name === check.name)));
      const bad = results.filter((r) => r.outcome === 'Failed' || r.outcome === 'Error');
      soak.failures += bad.length > 0 ? 1 : 0;
      soak.lastEvaluatedAt = draft.now.toISOString();
      soak.results = results;
      if (bad.length > 0) draft.event('Warning', 'SoakCheckFailed', `${soak.target}: ${describe(bad)} (${soak.failures}/${prometheus.failureLimit} tolerated)`);
      if (soak.failures > prometheus.failureLimit) {
        const onlyErrors = bad.every((r) => r.outcome === 'Error');
        return fail(onlyErrors ? 'MetricsUnavailable' : 'SoakFailed', `soak of ${soak.target} failed after ${soak.failures} bad evaluation(s): ${describe(bad)}`);
      }
      nextLookMs = Math.min(nextLookMs, intervalMs);
    } else {
      nextLookMs = Math.min(nextLookMs, Number.isFinite(sinceLast) ? intervalMs - sinceLast : MIN_REQUEUE_MS);
    }
    // A soak with checks passes only after at least one evaluation.
    if (soak.lastEvaluatedAt === undefined) {
      return working('Soaking', `soaking ${soak.target}: waiting for the first metrics evaluation`, [], Math.max(MIN_REQUEUE_MS, nextLookMs));
    }
  }

  if (elapsed < durationMs) {
    const checks = soak.results === undefined ? '' : `; last checks: ${describe(soak.results)}`;
    return working('Soaking', `soaking ${soak.target}: ${formatDuration(elapsed)} of ${spec.soak.duration}${checks}`, [], Math.max(MIN_REQUEUE_MS, nextLookMs));
  }

  const noData = (soak.results ?? []).filter((r) => r.outcome === 'NoData').map((r) => r.name);
  const note = noData.length > 0 ? `; no data for ${noData.join(', ')} (treated as passing)` : '';
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
