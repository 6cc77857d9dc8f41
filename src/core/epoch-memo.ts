// A derivation kept per key across passes and brought up to date with the namespaces changed since it was made
// (ObservedState.namespaceEpochs), instead of derived whole each pass. Derived whole when there are no epochs,
// when its other inputs differ, when the epochs cannot tell what changed, or when the update declines.
import type { NamespaceEpochs } from './observed.ts';

interface Entry<I, T> {
  inputs: I;
  readonly epochs: NamespaceEpochs;
  epoch: number;
  readonly value: T;
}

export class EpochMemo<I, T> {
  private readonly entries = new Map<string, Entry<I, T>>();
  private readonly max: number;
  private readonly sameInputs: (a: I, b: I) => boolean;

  /** `max` keys are kept (a handful of upgrades run at once); the oldest go first. */
  constructor(max: number, sameInputs: (a: I, b: I) => boolean) {
    this.max = max;
    this.sameInputs = sameInputs;
  }

  /**
   * The value for `key`: the kept one after `update` (given the namespaces changed since; false when it cannot
   * follow them), or `build()`'s.
   */
  get(key: string, inputs: I, epochs: NamespaceEpochs | undefined, build: () => T, update: (value: T, changed: ReadonlySet<string>) => boolean): T {
    const previous = this.entries.get(key);
    if (epochs !== undefined && previous !== undefined && previous.epochs === epochs && this.sameInputs(previous.inputs, inputs)) {
      const changed = epochs.changedSince(previous.epoch);
      if (changed !== undefined && update(previous.value, changed)) {
        previous.inputs = inputs;
        previous.epoch = epochs.current;
        return previous.value;
      }
    }
    const value = build();
    if (epochs !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, { inputs, epochs, epoch: epochs.current, value });
      for (const oldest of this.entries.keys()) {
        if (this.entries.size <= this.max) break;
        this.entries.delete(oldest);
      }
    }
    return value;
  }
}
