// Which namespaces each wave covers. A namespace is a candidate for a tag when the tag's webhook injects
// something in it: a workload this upgrade moves through that tag, or the namespace's own labels (an empty
// namespace on the tag). A wave's list is frozen in the status when it starts, so namespaces labelled later
// never change a wave under way.
import type { IstioUpgradeSpec, Wave, WaveStatus } from '../api/schema.ts';
import type { MeshView } from './draft.ts';
import { injectingConfigs } from './injection.ts';
import type { NamespaceState } from './observed.ts';
import { matchesSelector } from './selectors.ts';

export function waveTag(spec: IstioUpgradeSpec, wave: Pick<Wave, 'tag'>): string {
  return wave.tag ?? spec.tag;
}

/** Namespaces holding something the tag moves, in name order. */
export function tagNamespaces(view: MeshView, namespaces: readonly NamespaceState[], tag: string): NamespaceState[] {
  const { context } = view;
  const withMoves = new Set(view.workloads.flatMap((s) => (s.scope.move && s.scope.tag === tag ? [s.workload.namespace] : [])));
  return namespaces
    .filter((ns) => {
      if (context.excludedNamespaces.has(ns.name)) return false;
      if (withMoves.has(ns.name)) return true;
      const injectors = injectingConfigs(view.webhooks, ns.labels, { namespace: ns.name, labels: {}, annotations: {}, hostNetwork: false });
      return injectors.some((m) => m.tag === tag);
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The namespaces of every wave, in wave order; a namespace belongs to the first wave of its tag that claims it. */
export function resolveWaves(spec: IstioUpgradeSpec, view: MeshView, namespaces: readonly NamespaceState[], statuses: readonly WaveStatus[]): string[][] {
  const excluded = view.context.excludedNamespaces;
  const candidatesByTag = new Map<string, NamespaceState[]>();
  const candidates = (tag: string): NamespaceState[] => {
    let list = candidatesByTag.get(tag);
    if (list === undefined) candidatesByTag.set(tag, (list = tagNamespaces(view, namespaces, tag)));
    return list;
  };
  const claimed = new Map<string, Set<string>>();
  const claimedFor = (tag: string): Set<string> => {
    let set = claimed.get(tag);
    if (set === undefined) claimed.set(tag, (set = new Set()));
    return set;
  };
  const frozen = spec.rollout.waves.map((w) => statuses.find((s) => s.name === w.name && s.state !== 'Pending'));
  spec.rollout.waves.forEach((wave, index) => {
    for (const ns of frozen[index]?.namespaces ?? []) claimedFor(waveTag(spec, wave)).add(ns);
  });

  return spec.rollout.waves.map((wave, index) => {
    const status = frozen[index];
    if (status !== undefined) return [...status.namespaces];
    const tag = waveTag(spec, wave);
    let picked: string[];
    if (wave.namespaces !== undefined) {
      picked = wave.namespaces.filter((ns) => !excluded.has(ns));
    } else if (wave.namespaceSelector !== undefined) {
      const selector = wave.namespaceSelector;
      picked = candidates(tag).filter((ns) => matchesSelector(selector, ns.labels)).map((ns) => ns.name);
    } else {
      // A wave without namespaces or selector takes every remaining namespace of its tag.
      picked = candidates(tag).map((ns) => ns.name);
    }
    const taken = claimedFor(tag);
    const result = [...new Set(picked)].filter((ns) => !taken.has(ns)).sort();
    for (const ns of result) taken.add(ns);
    return result;
  });
}
