// Which namespaces each wave covers. A wave's list is frozen in the status when it starts, so namespaces
// labelled later never change a wave under way.
import type { IstioUpgradeSpec, WaveStatus } from '../api/schema.ts';
import type { NamespaceState } from './observed.ts';
import { matchesSelector } from './selectors.ts';
import { namespaceUsesTag } from './workloads.ts';

export function tagNamespaces(namespaces: readonly NamespaceState[], spec: IstioUpgradeSpec): NamespaceState[] {
  const excluded = new Set(spec.rollout.excludeNamespaces);
  return namespaces.filter((ns) => !excluded.has(ns.name) && namespaceUsesTag(ns.labels, spec.tag));
}

/** The namespaces of every wave, in wave order; a namespace belongs to the first wave that claims it. */
export function resolveWaves(
  spec: IstioUpgradeSpec,
  namespaces: readonly NamespaceState[],
  statuses: readonly WaveStatus[],
): string[][] {
  const candidates = tagNamespaces(namespaces, spec);
  const excluded = new Set(spec.rollout.excludeNamespaces);
  const claimed = new Set<string>();
  const frozen = spec.rollout.waves.map((w) => statuses.find((s) => s.name === w.name && s.state !== 'Pending'));
  for (const status of frozen) for (const ns of status?.namespaces ?? []) claimed.add(ns);

  return spec.rollout.waves.map((wave, index) => {
    const status = frozen[index];
    if (status !== undefined) return [...status.namespaces];
    let picked: string[];
    if (wave.namespaces !== undefined) {
      picked = wave.namespaces.filter((ns) => !excluded.has(ns));
    } else if (wave.namespaceSelector !== undefined) {
      const selector = wave.namespaceSelector;
      picked = candidates.filter((ns) => matchesSelector(selector, ns.labels)).map((ns) => ns.name);
    } else {
      // Only the last wave may be the catch-all (CRD rule), so everything unclaimed is "remaining".
      picked = candidates.map((ns) => ns.name);
    }
    const result = [...new Set(picked)].filter((ns) => !claimed.has(ns)).sort();
    for (const ns of result) claimed.add(ns);
    return result;
  });
}
