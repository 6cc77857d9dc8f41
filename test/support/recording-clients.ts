// A recording stand-in for the API clients (sample-controller's fake clientset with expectActions): every call is
// recorded as "<api>.<method> <name>" in order, and answered by a per-method handler or a default. For fault
// injection and for checking which calls one pass makes; behaviour that depends on a real API server is
// tested on the hermetic cluster.
import { KubeApiError } from '../../src/kube/api-errors.ts';
import type { KubeClients } from '../../src/kube/clients.ts';

export interface RecordedCall {
  readonly api: string;
  readonly method: string;
  readonly args: Record<string, unknown>;
  readonly contentType: string | undefined;
}

export type Handler = (args: Record<string, unknown>, call: number) => unknown;

/** An API error as the API server answers it: a Status body with the reason (409: AlreadyExists or Conflict). */
export function apiError(code: number, message = 'injected', reason?: string): KubeApiError {
  return new KubeApiError(code, message, JSON.stringify({ kind: 'Status', message, ...(reason === undefined ? {} : { reason }) }), {});
}

export class RecordingClients {
  readonly calls: RecordedCall[] = [];
  private readonly handlers = new Map<string, Handler>();
  private readonly counts = new Map<string, number>();
  readonly clients: KubeClients;

  constructor() {
    const api = (name: string) =>
      new Proxy({}, {
        get: (_target, method) => {
          if (typeof method !== 'string') return undefined;
          return (args: Record<string, unknown> = {}, options?: { contentType?: string }) => {
            const key = `${name}.${method}`;
            const n = (this.counts.get(key) ?? 0) + 1;
            this.counts.set(key, n);
            this.calls.push({ api: name, method, args, contentType: options?.contentType });
            const handler = this.handlers.get(key);
            try {
              return Promise.resolve(handler === undefined ? { metadata: { resourceVersion: '1' } } : handler(args, n));
            } catch (error) {
              return Promise.reject(error as Error);
            }
          };
        },
      });
    // The API classes are only ever called through their methods; the proxies stand in for them.
    this.clients = {
      watcher: { watch: () => Promise.reject(new Error('no watches in recorded calls')) },
      core: api('core'),
      apps: api('apps'),
      batch: api('batch'),
      admission: api('admission'),
      custom: api('custom'),
      coordination: api('coordination'),
      rbac: api('rbac'),
      version: api('version'),
    } as unknown as KubeClients;
  }

  on(key: string, handler: Handler): this {
    this.handlers.set(key, handler);
    return this;
  }

  /** The calls as "<api>.<method> <name or namespace/name>", for order assertions. */
  trace(): string[] {
    return this.calls.map((c) => {
      const name = typeof c.args.name === 'string' ? c.args.name : '';
      const namespace = typeof c.args.namespace === 'string' ? `${c.args.namespace}/` : '';
      return `${c.api}.${c.method} ${namespace}${name}`.trim();
    });
  }
}
