// Prechecks on the waves: explicitly listed namespaces exist and hold something the wave's tag moves.
import { ISTIO_REV_LABEL } from '../../api/constants.ts';
import { tagNamespaces, waveTag } from '../waves.ts';
import { refuse, type Finding, type PrecheckContext } from './context.ts';

export function waveNamespaces(ctx: PrecheckContext): Finding | undefined {
  const { spec, observed, view } = ctx.draft;
  for (const wave of spec.rollout.waves) {
    const tag = waveTag(spec, wave);
    const candidates = new Set(tagNamespaces(view, observed.namespaces, tag).map((n) => n.name));
    for (const ns of wave.namespaces ?? []) {
      const state = observed.namespaces.find((n) => n.name === ns);
      if (state === undefined) return refuse('InvalidWave', `wave "${wave.name}": namespace "${ns}" does not exist`);
      const adopted = view.workloads.some((s) => s.scope.move && s.scope.adopt && s.workload.namespace === ns);
      if (!candidates.has(ns) && !adopted) {
        return refuse('InvalidWave', `wave "${wave.name}": nothing in namespace "${ns}" is injected through tag "${tag}" (label it ${ISTIO_REV_LABEL}=${tag} or remove it from the wave)`);
      }
    }
  }
  return undefined;
}
