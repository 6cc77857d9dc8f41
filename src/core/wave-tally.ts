// Each namespace's share of a wave (the workloads its tag moves there, how far they are) and the sums rollingOut
// reads, kept across passes. A pass updates only the namespaces whose objects changed since the pass that left
// the tally (ObservedState.namespaceEpochs), so its cost follows the change, not the size of the wave (issue 14).
// When anything else a share derives from differs (the tag, the target, the scope context), or the epochs cannot
// tell, the tally is derived whole. Every answer is what a walk of every namespace gives.
import type { Draft } from './draft.ts';
import { EpochMemo } from './epoch-memo.ts';
import type { WorkloadState } from './observed.ts';
import { sameItems } from './same-items.ts';
import { sameScopeContext } from './scope-memo.ts';
import type { ScopeContext } from './scope.ts';

/** One namespace's part in a wave. */
export interface WaveShare {
  readonly ns: string;
  /** Pinned to the old revision and relabelled onto the wave's tag first. */
  readonly adopt: boolean;
  readonly moved: readonly WorkloadState[];
  /** Moved workloads already on the target revision. */
  readonly upgraded: number;
  /** One of them carries this upgrade's stamp: the namespace holds a slot. */
  readonly started: boolean;
}

export function shareDone(share: WaveShare): boolean {
  return !share.adopt && share.upgraded === share.moved.length;
}

function sharePending(share: WaveShare): boolean {
  return !share.started && !shareDone(share);
}

export class WaveTally {
  readonly namespaces: readonly string[];
  private readonly shares: WaveShare[];
  private readonly index = new Map<string, number>();
  private done = 0;
  private withWork = 0;
  private upgradedSum = 0;
  private totalSum = 0;
  /** Indexes of the namespaces under way (started, not done). */
  private readonly active = new Set<number>();
  /** No namespace before this index is pending (not started, not done). */
  private pendingFrom = 0;

  constructor(namespaces: readonly string[], share: (ns: string) => WaveShare) {
    this.namespaces = namespaces;
    this.shares = namespaces.map(share);
    namespaces.forEach((ns, i) => this.index.set(ns, i));
    this.pendingFrom = this.shares.length;
    this.shares.forEach((s, i) => {
      this.count(i, s, 1);
    });
  }

  /** Updatable namespace by namespace: a namespace listed twice is counted twice, which only a whole walk does. */
  get updatable(): boolean {
    return this.index.size === this.shares.length;
  }

  has(ns: string): boolean {
    return this.index.has(ns);
  }

  update(ns: string, share: WaveShare): void {
    const i = this.index.get(ns);
    const previous = i === undefined ? undefined : this.shares[i];
    if (i === undefined || previous === undefined) return;
    this.count(i, previous, -1);
    this.shares[i] = share;
    this.count(i, share, 1);
  }

  private count(i: number, share: WaveShare, sign: 1 | -1): void {
    if (shareDone(share)) this.done += sign;
    if (share.moved.length > 0 || share.adopt) this.withWork += sign;
    this.upgradedSum += sign * share.upgraded;
    this.totalSum += sign * share.moved.length;
    const underWay = share.started && !shareDone(share);
    if (sign === 1 && underWay) this.active.add(i);
    if (sign === -1) this.active.delete(i);
    if (sign === 1 && sharePending(share) && i < this.pendingFrom) this.pendingFrom = i;
  }

  /** No namespace has a workload the tag moves, nor one to adopt. */
  get nothingToDo(): boolean {
    return this.withWork === 0;
  }

  get allDone(): boolean {
    return this.done === this.shares.length;
  }

  get upgraded(): number {
    return this.upgradedSum;
  }

  get total(): number {
    return this.totalSum;
  }

  /** The namespaces under way, then the next pending ones in wave order up to `maxConcurrent` in all. */
  admitted(maxConcurrent: number): WaveShare[] {
    const out = [...this.active].sort((a, b) => a - b).flatMap((i) => this.shares[i] ?? []);
    const free = Math.max(0, maxConcurrent - out.length);
    let taken = 0;
    for (let i = this.pendingFrom; i < this.shares.length && taken < free; i++) {
      const share = this.shares[i];
      if (share === undefined) continue;
      if (!sharePending(share)) {
        if (i === this.pendingFrom) this.pendingFrom = i + 1;
        continue;
      }
      out.push(share);
      taken += 1;
    }
    return out;
  }

  /** Every share, in wave order. */
  all(): readonly WaveShare[] {
    return this.shares;
  }
}

/** What every share derives from besides the namespace's objects. */
interface ShareInputs {
  readonly tag: string;
  readonly target: string;
  readonly stamp: string;
  readonly namespaces: readonly string[];
  readonly context: ScopeContext;
}

function sameShareInputs(a: ShareInputs, b: ShareInputs): boolean {
  return a.tag === b.tag && a.target === b.target && a.stamp === b.stamp && sameItems(a.namespaces, b.namespaces) && sameScopeContext(a.context, b.context);
}

/** By upgrade and wave; a handful of upgrades run at once. */
const remembered = new EpochMemo<ShareInputs, WaveTally>(32, sameShareInputs);

/** The wave's tally this pass: the remembered one with the changed namespaces updated, or a new one. */
export function waveTally(draft: Draft, wave: string, namespaces: readonly string[], tag: string): WaveTally {
  const target = draft.toRevision;
  const stamp = draft.stamp(target);
  const share = (ns: string): WaveShare => {
    const view = draft.view.namespace(ns);
    const { moved, upgraded, started } = view.rollout(tag, target, stamp);
    return { ns, adopt: view.adopted, moved, upgraded, started };
  };
  return remembered.get(
    `${draft.upgrade.metadata.uid}/${wave}`,
    { tag, target, stamp, namespaces, context: draft.view.context },
    draft.observed.namespaceEpochs,
    () => new WaveTally(namespaces, share),
    (tally, changed) => {
      if (!tally.updatable) return false;
      for (const ns of changed) if (tally.has(ns)) tally.update(ns, share(ns));
      return true;
    },
  );
}
