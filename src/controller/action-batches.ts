// Which actions of one pass may run side by side.
import type { Action } from '../core/actions.ts';

/**
 * Restarts and evictions of one pass are independent of each other (each a read and a conditional write): a
 * few at a time, so that a wave of hundreds does not hold the only worker for seconds.
 */
export const RESTART_CONCURRENCY = 8;
const CONCURRENT_ACTIONS: ReadonlySet<Action['type']> = new Set(['restartWorkload', 'evictPod']);

/** The actions in their order, consecutive restarts and evictions grouped (run concurrently); anything else alone. */
export function inOrderBatches(actions: readonly Action[]): Action[][] {
  const batches: Action[][] = [];
  for (const action of actions) {
    const last = batches.at(-1);
    const first = last?.[0];
    if (last !== undefined && first !== undefined && CONCURRENT_ACTIONS.has(first.type) && CONCURRENT_ACTIONS.has(action.type)) last.push(action);
    else batches.push([action]);
  }
  return batches;
}
