// Holds back status writes that only report progress (src/core/progress-only.ts) to at most one per interval per
// upgrade; every other change is written at once. The pass that is held back asks to be requeued for the end of
// the interval, so the last progress is written even when nothing else happens.
import { isDeepStrictEqual } from 'node:util';
import type { IstioUpgradeStatus } from '../api/schema.ts';
import { differsOnlyInProgress } from '../core/progress-only.ts';

/** At a few rollouts a second this turns one status write per finished workload into about one a second. */
export const PROGRESS_WRITE_INTERVAL_MS = 1_000;

export class ProgressWriteGate {
  private readonly lastWriteMs = new Map<string, number>();
  private readonly intervalMs: number;

  constructor(intervalMs = PROGRESS_WRITE_INTERVAL_MS) {
    this.intervalMs = intervalMs;
  }

  /** How long the change from `written` to `next` waits to be written; undefined: write it now. */
  wait(name: string, written: IstioUpgradeStatus, next: IstioUpgradeStatus, nowMs: number): number | undefined {
    const last = this.lastWriteMs.get(name);
    if (last === undefined) return undefined;
    const wait = last + this.intervalMs - nowMs;
    // An unchanged status is no write at all (writeStatus sends nothing): nothing to come back for.
    return wait > 0 && !isDeepStrictEqual(written, next) && differsOnlyInProgress(written, next) ? wait : undefined;
  }

  wrote(name: string, nowMs: number): void {
    this.lastWriteMs.set(name, nowMs);
  }

  forget(name: string): void {
    this.lastWriteMs.delete(name);
  }
}
