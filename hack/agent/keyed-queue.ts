// Serializes the work done for one object (a pod, a Deployment): watch events arrive in bursts and every handler is
// async, so without this two handlers for the same pod could interleave their read-modify-write of its status.
import type { Logger } from './logger.ts';

export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Runs `task` after every task already queued for `key`; failures are logged, never thrown. */
  enqueue(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(task).catch((err: unknown) => {
      this.#log.error({ err, key }, 'task failed');
    });
    this.#tails.set(key, next);
    void next.finally(() => {
      if (this.#tails.get(key) === next) this.#tails.delete(key);
    });
    return next;
  }

  /** Resolves when every task queued so far has finished (used on shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }
}
