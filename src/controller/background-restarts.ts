// Restarts the only worker does not wait for. A pass that starts a namespace returns while the API server answers
// its PATCHes, so a slot freed meanwhile is refilled at once instead of after them. Until the informer shows a
// restarted workload changed, a later pass that plans the same restart again does not send it twice. After a
// failure, that upgrade's next restarts are awaited by their pass, so the error is folded into the status and
// requeued by its class exactly as for any other action.
import type { RestartWorkload } from '../core/actions.ts';
import type { WorkloadKind } from '../core/observed.ts';

/** The resourceVersion of a workload in the informer's cache (undefined: not cached). */
export type CachedResourceVersion = (kind: WorkloadKind, namespace: string, name: string) => string | undefined;

interface Sent {
  readonly upgrade: string;
  readonly action: RestartWorkload;
  /** The cached resourceVersion when it was sent: while the cache still holds it, the restart is not yet seen. */
  readonly basedOn: string | undefined;
  settled: boolean;
}

function keyOf(action: RestartWorkload): string {
  return `${action.kind}/${action.namespace}/${action.name}`;
}

export class BackgroundRestarts {
  private readonly sent = new Map<string, Sent>();
  /** Upgrades whose last background restart failed: their next restarts are awaited by the pass. */
  private readonly failed = new Set<string>();
  private readonly under = new Set<Promise<boolean>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private readonly limit: number;
  private readonly cachedResourceVersion: CachedResourceVersion;

  /** `limit`: restarts in flight at once, over every pass (a wave of hundreds must not flood the API server). */
  constructor(limit: number, cachedResourceVersion: CachedResourceVersion) {
    this.limit = limit;
    this.cachedResourceVersion = cachedResourceVersion;
  }

  /** Whether this upgrade's restarts may run without their pass waiting (none failed since the last pass that went well). */
  mayDetach(upgrade: string): boolean {
    return !this.failed.has(upgrade);
  }

  /** A pass of this upgrade awaited its restarts and they went well: its later ones may run in the background again. */
  awaitedSucceeded(upgrade: string): void {
    this.failed.delete(upgrade);
  }

  /** Resolves once every restart launched so far is answered. */
  async drain(): Promise<void> {
    await Promise.all(this.under);
  }

  /**
   * The planned restarts that are not under way and not answered-but-unseen. Restarts the cache has seen since
   * they were answered are forgotten here.
   */
  unsent(upgrade: string, actions: readonly RestartWorkload[]): RestartWorkload[] {
    for (const [key, entry] of this.sent) {
      if (entry.upgrade !== upgrade || !entry.settled) continue;
      const { kind, namespace, name } = entry.action;
      if (this.cachedResourceVersion(kind, namespace, name) !== entry.basedOn) this.sent.delete(key);
    }
    return actions.filter((action) => !this.sent.has(keyOf(action)));
  }

  /**
   * Starts the restarts (call with the output of unsent) and returns at once. The promise is true once all were
   * answered, false when one failed (it is logged by `onFailure`; that upgrade's next restarts are awaited).
   */
  launch(upgrade: string, actions: readonly RestartWorkload[], run: (action: RestartWorkload) => Promise<void>, onFailure: (action: RestartWorkload, error: unknown) => void): Promise<boolean> {
    const each = actions.map(async (action) => {
      const key = keyOf(action);
      const entry: Sent = { upgrade, action, basedOn: this.cachedResourceVersion(action.kind, action.namespace, action.name), settled: false };
      this.sent.set(key, entry);
      await this.acquire();
      try {
        await run(action);
        entry.settled = true;
        return true;
      } catch (error) {
        if (this.sent.get(key) === entry) this.sent.delete(key);
        this.failed.add(upgrade);
        onFailure(action, error);
        return false;
      } finally {
        this.release();
      }
    });
    const all = Promise.all(each).then((results) => results.every(Boolean));
    this.under.add(all);
    void all.then(() => this.under.delete(all));
    return all;
  }

  /** The upgrade is gone: nothing of it is kept. */
  forget(upgrade: string): void {
    this.failed.delete(upgrade);
    for (const [key, entry] of this.sent) if (entry.upgrade === upgrade) this.sent.delete(key);
  }

  private acquire(): Promise<void> {
    if (this.running < this.limit) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
    });
  }

  /** The slot passes straight to the next restart waiting, in order of launch. */
  private release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.running -= 1;
    else next();
  }
}
