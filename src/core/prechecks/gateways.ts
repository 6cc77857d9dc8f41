// Prechecks on spec.gateways: each exists and is an injected gateway that the tag switch moves. A gateway that
// brings its own proxy (istioctl-installed) or is pinned to the old revision would not move on a restart.
import { ISTIO_REV_LABEL } from '../../api/constants.ts';
import { templateHasOwnProxy } from '../scope.ts';
import { refuse, type Finding, type PrecheckContext } from './context.ts';

export function gateways(ctx: PrecheckContext): Finding | undefined {
  const { spec, view } = ctx.draft;
  for (const gateway of spec.gateways) {
    const name = `${gateway.namespace}/${gateway.name}`;
    const scoped = view.workloads.find((s) => s.workload.kind === 'Deployment' && s.workload.namespace === gateway.namespace && s.workload.name === gateway.name);
    if (scoped === undefined) return refuse('GatewayNotFound', `gateway Deployment ${name} not found; fix spec.gateways`);
    const { workload, scope } = scoped;
    if (scope.move && scope.tag === spec.tag) continue;
    if (templateHasOwnProxy(workload) || (!scope.move && (scope.reason === 'InjectionDisabled' || scope.reason === 'NotInjected'))) {
      return refuse(
        'GatewayNotInjected',
        `gateway Deployment ${name} is not injected (${scope.move ? 'it carries its own proxy' : scope.detail}): a restart would not give it the new proxy. Upgrade it with the installer that made it (e.g. istioctl install with the new revision, or its Helm chart), then remove it from spec.gateways`,
      );
    }
    const pin = workload.templateLabels[ISTIO_REV_LABEL];
    if (!scope.move && (scope.reason === 'PinnedToRevision' || (scope.reason === 'NotOnTag' && scope.blocksUninstall))) {
      return refuse('GatewayPinned', `gateway Deployment ${name} is pinned to revision ${pin ?? ctx.from} (${scope.detail}); label it ${ISTIO_REV_LABEL}=${spec.tag} so the tag moves it, or remove it from spec.gateways`);
    }
    return refuse('GatewayNotOnTag', `gateway Deployment ${name} is not injected through tag "${spec.tag}" (${scope.move ? `tag ${scope.tag}` : scope.detail}); fix spec.gateways`);
  }
  return undefined;
}
