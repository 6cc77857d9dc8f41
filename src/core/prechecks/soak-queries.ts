// Precheck on the soak queries: Prometheus must accept each one (placeholders filled in), or the upgrade would
// only find out in its first soak, after the data plane moved.
import { PRECHECK_TARGET } from '../soak.ts';
import { refuse, warn, type Finding, type PrecheckContext } from './context.ts';

export function soakQueries(ctx: PrecheckContext): Finding | undefined {
  const { spec, observed } = ctx.draft;
  if (spec.soak.prometheus === undefined || ctx.draft.status.queriesChecked === true) return undefined;
  const readings = observed.metrics?.target === PRECHECK_TARGET ? observed.metrics.readings : [];
  const invalid = readings.filter((r) => r.kind === 'invalid');
  if (invalid.length > 0) {
    return refuse('InvalidSoakQuery', `Prometheus rejects soak quer${invalid.length === 1 ? 'y' : 'ies'} ${invalid.map((r) => `"${r.name}": ${r.message}`).join('; ')}; fix spec.soak.prometheus.checks`);
  }
  const unanswered = readings.filter((r) => r.kind === 'error');
  if (unanswered.length > 0) return warn('PrecheckWarning', `could not check the soak queries: ${unanswered.map((r) => r.message).join('; ')}`);
  return undefined;
}
