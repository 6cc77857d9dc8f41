// A client-node informer that never gives up: the library stops an informer on any list/watch error other than a
// 410 or a timeout (e.g. the API server restarting), so this restarts it with backoff and logs each outage.
import { makeInformer } from '@kubernetes/client-node';
import type { Informer, KubeConfig, KubernetesObject, ListPromise, ObjectCache } from '@kubernetes/client-node';
import { Backoff } from './backoff.ts';
import type { Logger } from './logger.ts';

export interface ResilientInformer<T extends KubernetesObject> {
  readonly cache: ObjectCache<T>;
  onChange(handler: (obj: T) => void): void;
  onDelete(handler: (obj: T) => void): void;
  /** Starts listing and watching; every listed or watched object reaches the handlers as a change. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function resilientInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  list: ListPromise<T>,
  log: Logger,
  labelSelector?: string,
): ResilientInformer<T> {
  const informer: Informer<T> & ObjectCache<T> = makeInformer(kubeConfig, path, list, labelSelector);
  const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 });
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let startedAt = Date.now();

  informer.on('error', (err: unknown) => {
    if (stopped) return;
    // A watch that ran for a while before failing starts over at the shortest delay.
    const delayMs = backoff.next(Date.now() - startedAt);
    log.warn({ err, path, delayMs }, 'watch failed, restarting');
    restartTimer = setTimeout(() => {
      startedAt = Date.now();
      informer.start().catch((startErr: unknown) => {
        log.warn({ err: startErr, path }, 'watch restart failed');
      });
    }, delayMs);
  });

  return {
    cache: informer,
    onChange(handler) {
      informer.on('add', handler);
      informer.on('update', handler);
    },
    onDelete(handler) {
      informer.on('delete', handler);
    },
    async start() {
      await informer.start();
    },
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      await informer.stop();
    },
  };
}
