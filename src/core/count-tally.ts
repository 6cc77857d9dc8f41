// status.workloads summed over the waves' namespaces, kept across passes like the wave tally (wave-tally.ts): a
// pass recounts only the namespaces whose objects changed since the pass that left it, and the whole when the
// waves, the gateways, the target or the scope context differ, or the epochs cannot tell. The sums and the
// skipped lines are what a walk of every namespace gives.
import type { Draft } from './draft.ts';
import { EpochMemo } from './epoch-memo.ts';
import { sameItems } from './same-items.ts';
import { sameScopeContext } from './scope-memo.ts';
import type { ScopeContext } from './scope.ts';
import { waveTag } from './waves.ts';

/** What the counts of one namespace derive from, besides its objects: the tags of the waves that cover it and its gateways. */
interface CountedNamespace {
  readonly tags: readonly string[];
  readonly gatewayNames: readonly string[];
  total: number;
  upgraded: number;
  skipped: readonly string[];
}

/** The waves as the counts read them. */
interface WaveKey {
  readonly name: string;
  readonly tag: string | undefined;
  readonly namespaces: readonly string[];
}

export interface WorkloadCount {
  /** Moved workloads of the waves' namespaces, gateways left out (they are counted as Deployments by the caller). */
  readonly total: number;
  readonly upgraded: number;
  /** "Kind/namespace/name: why" of what is left alone in those namespaces, sorted. */
  readonly skipped: readonly string[];
}

class CountTally implements WorkloadCount {
  readonly byNamespace = new Map<string, CountedNamespace>();
  total = 0;
  upgraded = 0;
  private sorted: readonly string[] | undefined;

  get skipped(): readonly string[] {
    this.sorted ??= [...this.byNamespace.values()].flatMap((n) => n.skipped).sort();
    return this.sorted;
  }

  recount(draft: Draft, ns: string): void {
    const counted = this.byNamespace.get(ns);
    if (counted === undefined) return;
    const view = draft.view.namespace(ns);
    const count = view.count(counted.tags, counted.gatewayNames, draft.toRevision);
    const skipped = view.skippedLines();
    this.total += count.total - counted.total;
    this.upgraded += count.upgraded - counted.upgraded;
    counted.total = count.total;
    counted.upgraded = count.upgraded;
    if (!sameItems(counted.skipped, skipped)) this.sorted = undefined;
    counted.skipped = skipped;
  }
}

function waveKeys(draft: Draft): WaveKey[] {
  return (draft.status.waves ?? []).map((wave) => {
    const spec = draft.spec.rollout.waves.find((s) => s.name === wave.name);
    return { name: wave.name, tag: spec === undefined ? undefined : waveTag(draft.spec, spec), namespaces: wave.namespaces };
  });
}

function sameWaves(a: readonly WaveKey[], b: readonly WaveKey[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || x.name !== y.name || x.tag !== y.tag || !sameItems(x.namespaces, y.namespaces)) return false;
  }
  return true;
}

function gatewayKey(draft: Draft): string {
  return draft.spec.gateways.map((g) => `${g.namespace}/${g.name}`).join(',');
}

function countAll(draft: Draft, waves: readonly WaveKey[]): CountTally {
  // Per namespace, the tags of the waves that cover it, and its gateways' names.
  const tagsByNamespace = new Map<string, string[]>();
  for (const wave of waves) {
    for (const ns of wave.namespaces) {
      const tags = tagsByNamespace.get(ns) ?? [];
      if (wave.tag !== undefined && !tags.includes(wave.tag)) tags.push(wave.tag);
      tagsByNamespace.set(ns, tags);
    }
  }
  const gatewayNames = new Map<string, string[]>();
  for (const g of draft.spec.gateways) {
    const names = gatewayNames.get(g.namespace) ?? [];
    if (!names.includes(g.name)) names.push(g.name);
    gatewayNames.set(g.namespace, names);
  }
  const tally = new CountTally();
  for (const [ns, tags] of tagsByNamespace) {
    tally.byNamespace.set(ns, { tags, gatewayNames: gatewayNames.get(ns) ?? [], total: 0, upgraded: 0, skipped: [] });
    tally.recount(draft, ns);
  }
  return tally;
}

/** What every namespace's count derives from besides its objects. */
interface CountInputs {
  readonly waves: readonly WaveKey[];
  readonly gateways: string;
  readonly target: string;
  readonly context: ScopeContext;
}

function sameCountInputs(a: CountInputs, b: CountInputs): boolean {
  return a.target === b.target && a.gateways === b.gateways && sameWaves(a.waves, b.waves) && sameScopeContext(a.context, b.context);
}

/** By upgrade; a handful of upgrades run at once. */
const remembered = new EpochMemo<CountInputs, CountTally>(32, sameCountInputs);

/** The counts of the waves' namespaces this pass: the remembered ones with the changed namespaces recounted, or new ones. */
export function countWaveNamespaces(draft: Draft): WorkloadCount {
  const waves = waveKeys(draft);
  return remembered.get(
    draft.upgrade.metadata.uid,
    { waves, gateways: gatewayKey(draft), target: draft.toRevision, context: draft.view.context },
    draft.observed.namespaceEpochs,
    () => countAll(draft, waves),
    (tally, changed) => {
      for (const ns of changed) tally.recount(draft, ns);
      return true;
    },
  );
}
