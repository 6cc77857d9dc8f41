// The numbered log behind ObservedState.namespaceEpochs: each observation in which some namespaces' objects
// changed is one epoch; the last few are kept, so a planner memo left at an older epoch learns what to update.
import type { NamespaceEpochs } from './observed.ts';

/** Enough for every upgrade under way to find the changes since its own previous pass. */
export const EPOCHS_KEPT = 64;

export class NamespaceEpochLog implements NamespaceEpochs {
  private epoch = 0;
  /** The kept epochs' changes, oldest first. */
  private readonly log: { readonly epoch: number; readonly namespaces: ReadonlySet<string> }[] = [];

  get current(): number {
    return this.epoch;
  }

  /** One observation: a new epoch when anything changed. */
  record(changed: ReadonlySet<string>): void {
    if (changed.size === 0) return;
    this.epoch += 1;
    this.log.push({ epoch: this.epoch, namespaces: changed });
    if (this.log.length > EPOCHS_KEPT) this.log.shift();
  }

  changedSince(epoch: number): ReadonlySet<string> | undefined {
    if (epoch === this.epoch) return new Set();
    const first = this.log[0];
    if (epoch > this.epoch || first === undefined || epoch < first.epoch - 1) return undefined;
    const out = new Set<string>();
    for (const entry of this.log) if (entry.epoch > epoch) for (const ns of entry.namespaces) out.add(ns);
    return out;
  }
}
