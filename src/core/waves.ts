// Which namespaces each wave covers. A namespace is a candidate for a tag when the tag's webhook injects
// something in it: a workload this upgrade moves through that tag, or the namespace's own labels (an empty
// namespace on the tag). A wave's list is frozen in the status when it starts, so namespaces labelled later
// never change a wave under way.
import type { IstioUpgradeSpec, Wave, WaveStatus } from '../api/schema.ts';
import type { MeshView } from './mesh-view.ts';
import { injectingConfigs } from './injection.ts';
import type { NamespaceState, WebhookConfiguration } from './observed.ts';
import { sameItems } from './same-items.ts';
import { matchesSelector } from './selectors.ts';

export function waveTag(spec: IstioUpgradeSpec, wave: Pick<Wave, 'tag'>): string {
  return wave.tag ?? spec.tag;
}

/** The tags whose webhooks inject a namespace by its labels alone, remembered while it and the webhooks are the same. */
const labelTagsMemo = new WeakMap<NamespaceState, { readonly webhooks: readonly WebhookConfiguration[]; readonly tags: readonly string[] }>();
function tagsInjectingByLabels(webhooks: readonly WebhookConfiguration[], ns: NamespaceState): readonly string[] {
  const previous = labelTagsMemo.get(ns);
  if (previous !== undefined && sameItems(previous.webhooks, webhooks)) return previous.tags;
  const injectors = injectingConfigs(webhooks, ns.labels, { namespace: ns.name, labels: {}, annotations: {}, hostNetwork: false });
  const tags = injectors.flatMap((m) => (m.tag === undefined ? [] : [m.tag]));
  labelTagsMemo.set(ns, { webhooks, tags });
  return tags;
}

/** Namespaces holding something the tag moves, in name order. */
export function tagNamespaces(view: MeshView, namespaces: readonly NamespaceState[], tag: string): NamespaceState[] {
  const { context } = view;
  return namespaces
    .filter((ns) => !context.excludedNamespaces.has(ns.name) && (view.namespace(ns.name).movedTags.has(tag) || tagsInjectingByLabels(view.webhooks, ns).includes(tag)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
