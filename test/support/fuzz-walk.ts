// Drives one IstioUpgrade through the real planner over the in-memory sample mesh, folding typed errors as
// the reconciler does, and says whether it threw, busy-looped, or ended on a reason the docs do not list.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { IstioUpgrade } from '../../src/api/schema.ts';
import { StalledError, TransientError, WaitingError } from '../../src/core/errors.ts';
import { foldError } from '../../src/core/fold-error.ts';
import { isTerminal, plan } from '../../src/core/plan.ts';
import { isReason } from '../../src/core/reasons.ts';
import { FakeMesh, sampleFor } from './fake-mesh.ts';
import { sampleMesh, T0 } from './fixtures.ts';

const MAX_PASSES = 400;
const DOCUMENTED = new Set([...readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8').matchAll(/`([A-Z][A-Za-z]+)`/g)].map((m) => m[1]));

export interface WalkOutcome {
  readonly end: IstioUpgrade;
  readonly actions: number;
  readonly passes: number;
  readonly thrown?: string;
  readonly busy: boolean;
  /** What the last pass asked for: the controller clamps it to an hour (work-queue MAX_DELAY_MS). */
  readonly lastRequeueMs?: number | undefined;
}

/** observe -> plan -> execute over the in-memory mesh, folding typed errors as the reconciler does. */
export function walkSafely(start: IstioUpgrade): WalkOutcome {
  const mesh = new FakeMesh(sampleMesh());
  let upgrade = start;
  let now = T0;
  let actions = 0;
  let idleFast = 0;
  let quiet = 0;
  let lastRequeueMs: number | undefined;
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    mesh.tick();
    mesh.observed = { ...mesh.observed, metrics: sampleFor(upgrade, mesh.observed, now, undefined) };
    let status = upgrade.status;
    let requeue: number | undefined;
    let done = 0;
    try {
      const result = plan(upgrade, mesh.observed, now);
      for (const action of result.actions) mesh.apply(action, now);
      done = result.actions.length;
      ({ status } = result);
      requeue = result.requeueAfterMs;
    } catch (error) {
      if (!(error instanceof StalledError || error instanceof WaitingError || error instanceof TransientError)) {
        return { end: upgrade, actions, passes: pass, thrown: error instanceof Error ? `${error.name}: ${error.message}` : String(error), busy: false };
      }
      status = foldError(status, upgrade.metadata.generation, error, now);
      requeue = 5_000;
    }
    actions += done;
    lastRequeueMs = requeue;
    const unchanged = done === 0 && isDeepStrictEqual(status, upgrade.status);
    upgrade = { ...upgrade, status };
    if (isTerminal(status.phase)) return { end: upgrade, actions, passes: pass, busy: false };
    // A busy loop: waking within a second, again and again, to do nothing.
    idleFast = unchanged && requeue !== undefined && requeue < 1_000 ? idleFast + 1 : 0;
    if (idleFast >= 3) return { end: upgrade, actions, passes: pass, busy: true };
    // Nothing left to do until something changes (a person, the cluster): where the real operator sleeps.
    quiet = unchanged ? quiet + 1 : 0;
    if (quiet >= 5) return { end: upgrade, actions, passes: pass, busy: false, lastRequeueMs };
    now = new Date(now.getTime() + Math.min(requeue ?? 60_000, 60_000));
  }
  return { end: upgrade, actions, passes: MAX_PASSES, busy: false, lastRequeueMs };
}

/** The reasons an upgrade shows at the end, each of which must be typed and, if Stalled, documented. */
export function undocumentedReasons(upgrade: IstioUpgrade): string[] {
  const bad: string[] = [];
  for (const c of upgrade.status.conditions ?? []) {
    if (!isReason(c.reason) && !DOCUMENTED.has(c.reason)) bad.push(`${c.type}=${c.reason}`);
    if (c.type === 'Stalled' && c.status === 'True' && !DOCUMENTED.has(c.reason)) bad.push(`Stalled=${c.reason} (not in docs/troubleshooting.md)`);
  }
  return bad;
}
