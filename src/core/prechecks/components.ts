// Prechecks on what the final uninstall would remove: shared node agents (Istio CNI, ambient ztunnel) and
// gateways installed with the old revision are never removed by the operator; the plan says so up front.
import { describeComponent, sharedComponents } from '../inventory.ts';
import { warn, type Finding, type PrecheckContext } from './context.ts';

export function sharedOldComponents(ctx: PrecheckContext): Finding | undefined {
  const { observed, spec } = ctx.draft;
  if (!spec.uninstall.enabled) return undefined;
  const shared = sharedComponents(observed.workloads, ctx.from, observed.istioNamespace);
  if (shared.length === 0) return undefined;
  return warn(
    'PrecheckWarning',
    `revision ${ctx.from} includes ${shared.map(describeComponent).join(', ')}; \`istioctl uninstall --revision ${ctx.from}\` would delete ${shared.length === 1 ? 'it' : 'them'}, so the uninstall will wait until ${shared.length === 1 ? 'it is' : 'they are'} upgraded or relabelled by their own installer`,
  );
}
