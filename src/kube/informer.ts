// A list-watch cache with client-go reflector semantics: list, then watch from the list's resourceVersion; a
// watch that ends (cleanly or not) resumes from the last resourceVersion seen; 410 Gone relists; every failed
// list or watch is retried with capped exponential backoff and jitter, forever. A relist replaces the cache
// atomically and reports only the differences. Objects are reduced by `transform` on insert, so the cache holds
// what the planner reads, not whole objects (managedFields and all).
import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { statusCodeOf } from './api-errors.ts';
import type { Watcher } from './rest/rest-client.ts';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface ListResult<T> {
  readonly items: readonly T[];
  readonly metadata?: ListMeta | undefined;
}

/** A list's metadata: the API server's JSON names the token `continue`; client-node's typed lists (tests) `_continue`. */
interface ListMeta {
  readonly resourceVersion?: string | undefined;
  readonly _continue?: string | undefined;
  readonly continue?: string | undefined;
}

/** One page of a paginated list, in the client's parameter names. */
export interface ListPage {
  readonly limit: number;
  readonly _continue?: string;
}

/** Items per list page, as client-go's reflector: a relist never holds a whole large list in memory at once. */
export const LIST_PAGE_SIZE = 500;

export interface InformerOptions<T extends KubernetesObject, S> {
  readonly name: string;
  /** Watch path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly labelSelector?: string | undefined;
  /** e.g. metadata.name=X, which lets RBAC limit the watch to that name (resourceNames). */
  readonly fieldSelector?: string | undefined;
  /** One page of the list; the informer asks for pages until the server returns no continue token. */
  list(page: ListPage): Promise<ListResult<T>>;
  /** Items per page (default LIST_PAGE_SIZE). */
  readonly pageSize?: number;
  transform(object: T): S;
  onEvent(event: InformerEvent, object: S): void;
  /** Called when a list or watch failed and is retried after `retryInMs`. */
  onFailure?(error: unknown, retryInMs: number): void;
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /**
   * How long list/watch may keep failing before the cache counts as down. A watch cut that is resumed within
   * this bound is routine (API server restarts, load-balancer idle timeouts) and must not flap the status.
   */
  readonly staleAfterMs?: number;
}

export interface InformerHealth {
  readonly name: string;
  /** Listed at least once, and not failing for longer than staleAfterMs. */
  readonly up: boolean;
  readonly lastError: string | undefined;
  /** The HTTP status of the last failure, when the API server answered (403: RBAC, will not pass by itself). */
  readonly lastStatusCode: number | undefined;
  /** When the cache was last known complete (a list succeeded, a watch delivered or ended cleanly). */
  readonly lastSyncMs: number | undefined;
  /** How long list/watch has been failing (since start, when it never listed); 0 when not failing. */
  readonly failingForMs: number;
  /** Full lists started, the first included: each later one (410 Gone, a failed list) costs the API server a read of every object. */
  readonly lists: number;
  /** Watch requests started; one per server timeout (5 to 6 minutes) when all is well. */
  readonly watches: number;
}

export interface Store<S> {
  get(name: string, namespace?: string): S | undefined;
  list(namespace?: string): readonly S[];
}

/** What the informer set needs of any informer, whatever it caches. */
export interface ManagedInformer {
  readonly name: string;
  start(): Promise<void>;
  stop(): void;
  health(nowMs?: number): InformerHealth;
}

/** A watch that ends sooner than this without delivering anything counts as failed (no hot loop). */
const MIN_HEALTHY_WATCH_MS = 1_000;

function errorText(error: unknown): string {
  const code = statusCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `HTTP ${code}: ${message.slice(0, 300)}`;
}

interface Keyed {
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string;
}

function keyOf(object: KubernetesObject): Keyed {
  return { namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '', resourceVersion: object.metadata?.resourceVersion ?? '' };
}

interface Entry<S> {
  readonly object: S;
  readonly resourceVersion: string;
}

/** Thrown inside a watch to force a relist (410 Gone, "too old resource version"). */
class ResourceExpired extends Error {}

export class Informer<T extends KubernetesObject, S> implements Store<S>, ManagedInformer {
  private readonly options: InformerOptions<T, S>;
  private readonly watcher: Watcher;
  /** namespace -> name -> entry */
  private byNamespace = new Map<string, Map<string, Entry<S>>>();
  /** The whole list, kept until the next change: the same array pass after pass lets callers reuse what they derived. */
  private everything: readonly S[] | undefined;
  private resourceVersion: string | undefined;
  private stopped = false;
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private listedOnce = false;
  private failingSinceMs: number | undefined;
  private lastError: string | undefined;
  private lastStatusCode: number | undefined;
  private lastSyncMs: number | undefined;
  private firstAttempt: Promise<void> | undefined;
  private startedAtMs: number | undefined;
  private resolveFirst: (() => void) | undefined;
  private lists = 0;
  private watches = 0;

  constructor(watcher: Watcher, options: InformerOptions<T, S>) {
    this.options = options;
    this.watcher = watcher;
  }

  get name(): string {
    return this.options.name;
  }

  health(nowMs = Date.now()): InformerHealth {
    const since = this.failingSinceMs ?? (this.listedOnce ? undefined : this.startedAtMs);
    const failingForMs = since === undefined ? 0 : Math.max(0, nowMs - since);
    const up = this.listedOnce && failingForMs <= (this.options.staleAfterMs ?? 10_000);
    return { name: this.options.name, up, lastError: this.lastError, lastStatusCode: this.lastStatusCode, lastSyncMs: this.lastSyncMs, failingForMs, lists: this.lists, watches: this.watches };
  }

  get(name: string, namespace = ''): S | undefined {
    return this.byNamespace.get(namespace)?.get(name)?.object;
  }

  /** The resourceVersion of the object as last seen (updates that changed nothing kept included). */
  resourceVersionOf(name: string, namespace = ''): string | undefined {
    return this.byNamespace.get(namespace)?.get(name)?.resourceVersion;
  }

  list(namespace?: string): readonly S[] {
    if (namespace !== undefined) return [...(this.byNamespace.get(namespace)?.values() ?? [])].map((e) => e.object);
    if (this.everything !== undefined) return this.everything;
    const out: S[] = [];
    for (const entries of this.byNamespace.values()) for (const e of entries.values()) out.push(e.object);
    this.everything = out;
    return out;
  }

  /** Starts listing and watching; resolves once the first list has succeeded or failed (retries go on). */
  start(): Promise<void> {
    this.startedAtMs ??= Date.now();
    this.firstAttempt ??= new Promise<void>((resolve) => {
      this.resolveFirst = resolve;
    });
    void this.relist();
    return this.firstAttempt;
  }

  /** A method, not the field, so that checks after an await are not narrowed away. */
  private isStopped(): boolean {
    return this.stopped;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.abort?.abort();
  }

  private synced(): void {
    this.failingSinceMs = undefined;
    this.lastError = undefined;
    this.lastStatusCode = undefined;
    this.lastSyncMs = Date.now();
  }

  private retryLater(action: () => Promise<void>, error: unknown): void {
    if (this.stopped) return;
    this.failingSinceMs ??= Date.now();
    this.lastError = errorText(error);
    this.lastStatusCode = statusCodeOf(error);
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 500, maxMs: 30_000 };
    const ceiling = Math.min(maxMs, minMs * 2 ** this.failures);
    this.failures += 1;
    // Full jitter, so replicas (and informers) that failed together do not retry together.
    const delay = Math.max(minMs, Math.round(Math.random() * ceiling));
    this.options.onFailure?.(error, delay);
    this.timer = setTimeout(() => void action(), delay);
    this.timer.unref();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    this.lists += 1;
    let listed: { next: Map<string, Map<string, Entry<S>>>; resourceVersion: string | undefined };
    try {
      listed = await this.listPages();
    } catch (error) {
      this.resolveFirst?.();
      this.retryLater(() => this.relist(), error);
      return;
    }
    if (this.isStopped()) return;
    this.replace(listed.next);
    this.resourceVersion = listed.resourceVersion;
    this.failures = 0;
    this.listedOnce = true;
    this.synced();
    this.resolveFirst?.();
    await this.watch();
  }

  /**
   * Lists page by page, reducing each page as it arrives so that only one page of whole objects is held at a
   * time. Every page is served from the first page's snapshot; an expired continue token fails the list, which
   * is retried from the start.
   */
  private async listPages(): Promise<{ next: Map<string, Map<string, Entry<S>>>; resourceVersion: string | undefined }> {
    const next = new Map<string, Map<string, Entry<S>>>();
    let token: string | undefined;
    let resourceVersion: string | undefined;
    const limit = this.options.pageSize ?? LIST_PAGE_SIZE;
    do {
      const page = await this.options.list(token === undefined ? { limit } : { limit, _continue: token });
      if (this.isStopped()) break;
      for (const raw of page.items) {
        const key = keyOf(raw);
        const previous = this.byNamespace.get(key.namespace)?.get(key.name);
        let entry = previous !== undefined && previous.resourceVersion === key.resourceVersion ? previous : { object: this.options.transform(raw), resourceVersion: key.resourceVersion };
        // Unchanged for the planner: keep the cached object, so the relist reports no update for it.
        if (previous !== undefined && previous !== entry && isDeepStrictEqual(previous.object, entry.object)) entry = { object: previous.object, resourceVersion: key.resourceVersion };
        let names = next.get(key.namespace);
        if (names === undefined) {
          names = new Map<string, Entry<S>>();
          next.set(key.namespace, names);
        }
        names.set(key.name, entry);
      }
      resourceVersion = page.metadata?.resourceVersion;
      const more = page.metadata?._continue ?? page.metadata?.continue;
      token = more === undefined || more === '' ? undefined : more;
    } while (token !== undefined);
    return { next, resourceVersion };
  }

  /** Replaces the cache with a fresh list, emitting only what changed. */
  private replace(next: Map<string, Map<string, Entry<S>>>): void {
    const events: [InformerEvent, S][] = [];
    for (const [namespace, names] of next) {
      for (const [name, entry] of names) {
        const previous = this.byNamespace.get(namespace)?.get(name);
        if (previous === undefined) events.push(['add', entry.object]);
        else if (previous.object !== entry.object) events.push(['update', entry.object]);
      }
    }
    for (const [namespace, names] of this.byNamespace) {
      for (const [name, entry] of names) if (next.get(namespace)?.has(name) !== true) events.push(['delete', entry.object]);
    }
    this.byNamespace = next;
    this.everything = undefined;
    for (const [event, object] of events) this.options.onEvent(event, object);
  }

  private apply(event: InformerEvent, raw: T): void {
    const key = keyOf(raw);
    if (key.resourceVersion !== '') this.resourceVersion = key.resourceVersion;
    let names = this.byNamespace.get(key.namespace);
    if (event === 'delete') {
      const previous = names?.get(key.name);
      names?.delete(key.name);
      this.everything = undefined;
      if (names?.size === 0) this.byNamespace.delete(key.namespace);
      this.options.onEvent('delete', previous?.object ?? this.options.transform(raw));
      return;
    }
    if (names === undefined) {
      names = new Map<string, Entry<S>>();
      this.byNamespace.set(key.namespace, names);
    }
    const previous = names.get(key.name);
    const object = this.options.transform(raw);
    if (previous !== undefined && isDeepStrictEqual(previous.object, object)) {
      // Nothing the operator keeps changed (a status heartbeat, a ReplicaSet's counters): the cached object
      // stays as it was and no pass is woken for it.
      names.set(key.name, { object: previous.object, resourceVersion: key.resourceVersion });
      return;
    }
    names.set(key.name, { object, resourceVersion: key.resourceVersion });
    this.everything = undefined;
    this.options.onEvent(previous === undefined ? 'add' : 'update', object);
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    this.watches += 1;
    const startedMs = Date.now();
    const progress = { delivered: false, established: false };
    const ended = new Promise<unknown>((resolve) => {
      const query = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
        // The server ends the watch after this long; it is resumed from the last resourceVersion.
        timeoutSeconds: 300 + Math.round(Math.random() * 60),
      };
      this.watcher
        .watch(this.options.path, query, (type: string, object: unknown) => {
          if (type === 'BOOKMARK') {
            const rv = (object as KubernetesObject | undefined)?.metadata?.resourceVersion;
            if (rv !== undefined) this.resourceVersion = rv;
            return;
          }
          if (type === 'ERROR') {
            const code = typeof object === 'object' && object !== null && 'code' in object ? object.code : undefined;
            resolve(code === 410 ? new ResourceExpired('resource version too old') : new Error(`watch error event: ${JSON.stringify(object).slice(0, 300)}`));
            this.abort?.abort();
            return;
          }
          const event: InformerEvent | undefined = type === 'ADDED' ? 'add' : type === 'MODIFIED' ? 'update' : type === 'DELETED' ? 'delete' : undefined;
          if (event !== undefined && typeof object === 'object' && object !== null) this.apply(event, object as T);
          progress.delivered = true;
          this.failures = 0;
          this.synced();
        }, (error: unknown) => {
          resolve(error ?? undefined);
        })
        .then((controller) => {
          this.abort = controller;
          // The server accepted the resourceVersion and streams from it: the cache is complete and current.
          progress.established = true;
          this.failures = 0;
          this.synced();
        }, resolve);
    });
    const error = await ended;
    if (this.isStopped()) return;
    if (error instanceof ResourceExpired || statusCodeOf(error) === 410) {
      void this.relist();
      return;
    }
    // A watch that timed out on inactivity, was closed by the server, or was cut after it had been streaming
    // (an API server restart, a load balancer's idle timeout) is routine: resume at once from the last
    // resourceVersion. Only a watch that could not be established, or broke at once, backs off.
    const timeout = error instanceof Error && error.name === 'TimeoutError';
    const premature = !progress.delivered && Date.now() - startedMs < MIN_HEALTHY_WATCH_MS;
    const interrupted = progress.established || progress.delivered;
    if ((error === undefined || error === null || timeout || interrupted) && !premature) {
      if (this.failingSinceMs === undefined) this.lastSyncMs = Date.now();
      void this.watch();
      return;
    }
    this.retryLater(() => this.watch(), error ?? new Error('watch ended at once'));
  }
}
