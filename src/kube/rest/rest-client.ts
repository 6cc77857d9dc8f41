// JSON over HTTP to the API server, on Node's own http/https with one kept-alive connection pool. It replaces
// @kubernetes/client-node's generated clients at run time: those loaded the whole generated API (models,
// serializers) and a second copy of undici, ~30 MB of RSS for an operator that makes ~40 kinds of call, and
// converted every answer into typed models that the operator turned back into plain data.
import http from 'node:http';
import https from 'node:https';
import { KubeApiError } from '../api-errors.ts';
import type { KubeConnection } from './kube-connection.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Query parameters; undefined ones are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  /** For PATCH: the patch type (see PATCH_TYPES); JSON otherwise. */
  readonly contentType?: string;
}

/** A watch event as the API server streams it. */
export type WatchCallback = (type: string, object: unknown) => void;

/** The watch interface the informers use (the same shape as client-node's Watch, which the tests may pass). */
export interface Watcher {
  /**
   * Resolves once the server accepted the watch (HTTP 200), with the controller that ends it; rejects when it
   * did not. After that, `done` is called once: with undefined when the server ended the stream, or the error.
   */
  watch(path: string, query: Query, callback: WatchCallback, done: (error: unknown) => void): Promise<AbortController>;
}

/** Thrown when a request is not answered in time: a transient error, retried like any other. */
export class RequestTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

export interface RestClientOptions {
  readonly timeoutMs: number;
  readonly userAgent: string;
}

/** Watches end by themselves (timeoutSeconds); this much longer without an end means the connection is dead. */
const WATCH_GRACE_MS = 60_000;

export class RestClient implements Watcher {
  private readonly connection: KubeConnection;
  private readonly options: RestClientOptions;
  private readonly agent: http.Agent;
  /** Watches hold their connection for minutes and never reuse one: no pooled connection can be stale under them. */
  private readonly watchAgent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(connection: KubeConnection, options: RestClientOptions, agents?: { pooled: http.Agent; watches: http.Agent }) {
    this.connection = connection;
    this.options = options;
    const secure = connection.server.startsWith('https:');
    this.transport = secure ? https : http;
    // One pool per connection, shared by every client built on it: no TLS handshake per request.
    this.agent = agents?.pooled ?? (secure ? new https.Agent({ keepAlive: true, ...tlsOptions(connection) }) : new http.Agent({ keepAlive: true }));
    this.watchAgent = agents?.watches ?? (secure ? new https.Agent({ keepAlive: false, ...tlsOptions(connection) }) : new http.Agent({ keepAlive: false }));
  }

  /** The same pool and credentials, another timeout (Lease requests). */
  withTimeout(timeoutMs: number): RestClient {
    return new RestClient(this.connection, { ...this.options, timeoutMs }, { pooled: this.agent, watches: this.watchAgent });
  }

  /** One request; the parsed JSON answer, or a KubeApiError for a non-2xx status. */
  async request<T = unknown>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    try {
      return await this.requestOnce<T>(method, path, options, true);
    } catch (error) {
      // A kept-alive connection the server (or a proxy) closed while it sat in the pool fails before any answer:
      // nothing reached the server, so the request is sent again once on a new connection (Node's advice). A 401
      // to a credential that was renewed since (an exec plugin's) was not acted on either: sent again once.
      if (!(error instanceof StaleSocketError) && !(error instanceof RenewedCredentialError)) throw error;
      return this.requestOnce<T>(method, path, options, false);
    }
  }

  private async requestOnce<T>(method: HttpMethod, path: string, options: RequestOptions, firstAttempt: boolean): Promise<T> {
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers = await this.headers(body === undefined ? undefined : (options.contentType ?? 'application/json'));
    // Node sends no body length for DELETE unless told (it would not chunk it either).
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    const answer = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
      const request = this.transport.request(url, { method, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          chunks.length = 0;
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text });
        });
        response.on('error', reject);
      });
      const timer = setTimeout(() => request.destroy(new RequestTimeoutError(`${method} ${path}: no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      request.on('close', () => { clearTimeout(timer); });
      request.on('error', (error) => { reject(staleOrSelf(request, error)); });
      request.end(body);
    });
    const { text } = answer;
    // Node's https.Agent keeps the first request of every kept-alive socket reachable for the socket's life (its
    // TLS 'session' listener shares a closure context with the request's callback), and with it this promise's
    // answer and the chunks above: a 5 MB list page per pooled socket. Both are emptied once read.
    answer.text = '';
    if (answer.status === 401 && this.connection.unauthorized?.(headers.Authorization) === true && firstAttempt) throw new RenewedCredentialError(`${method} ${path}: HTTP 401`);
    if (answer.status < 200 || answer.status >= 300) throw new KubeApiError(answer.status, `${method} ${path}: HTTP ${answer.status}`, text, flatHeaders(answer.headers));
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  watch(path: string, query: Query, callback: WatchCallback, done: (error: unknown) => void): Promise<AbortController> {
    const controller = new AbortController();
    const serverTimeoutMs = typeof query.timeoutSeconds === 'number' ? query.timeoutSeconds * 1000 : 30 * 60_000;
    return this.headers(undefined).then(
      (headers) =>
        new Promise<AbortController>((resolve, reject) => {
          let established = false;
          let finished = false;
          const finish = (error: unknown): void => {
            if (finished) return;
            finished = true;
            clearTimeout(deadline);
            if (established) done(error);
            else reject(error instanceof Error ? error : new Error(String(error)));
          };
          const request = this.transport.request(this.url(path, { ...query, watch: true }), { method: 'GET', headers, agent: this.watchAgent, signal: controller.signal }, (response) => {
            const status = response.statusCode ?? 0;
            if (status !== 200) {
              // The informer retries the watch; with a renewed credential when this one was rejected.
              if (status === 401) this.connection.unauthorized?.(headers.Authorization);
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => { finish(new KubeApiError(status, `watch ${path}: HTTP ${status}`, Buffer.concat(chunks).toString('utf8'), flatHeaders(response.headers))); });
              response.on('error', finish);
              return;
            }
            established = true;
            resolve(controller);
            let pending = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              pending += chunk;
              for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
                const line = pending.slice(0, newline);
                pending = pending.slice(newline + 1);
                if (line.trim() === '') continue;
                try {
                  deliver(line, callback);
                } catch (error) {
                  // A line that is not JSON, or a callback that threw: end this watch; the informer resumes it.
                  request.destroy(error instanceof Error ? error : new Error(String(error)));
                  return;
                }
              }
            });
            response.on('end', () => { finish(undefined); });
            response.on('error', finish);
            response.on('close', () => { finish(controller.signal.aborted ? controller.signal.reason : undefined); });
          });
          const deadline = setTimeout(() => request.destroy(new RequestTimeoutError(`watch ${path}: not ended ${WATCH_GRACE_MS} ms after its timeout`)), serverTimeoutMs + WATCH_GRACE_MS);
          request.on('error', finish);
          request.end();
        }),
    );
  }

  private url(path: string, query: Query | undefined): URL {
    const url = new URL(this.connection.server + path);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  private async headers(contentType: string | undefined): Promise<Record<string, string>> {
    const authorization = await this.connection.authorization();
    return {
      Accept: 'application/json',
      'User-Agent': this.options.userAgent,
      ...(authorization === undefined ? {} : { Authorization: authorization }),
      ...(contentType === undefined ? {} : { 'Content-Type': contentType }),
    };
  }
}

/** A 401 to a credential that has been dropped since: the request is sent again with the renewed one. */
class RenewedCredentialError extends Error {
  override readonly name = 'RenewedCredentialError';
}

/** A request on a reused pooled connection that the peer had already closed: safe to send again. */
class StaleSocketError extends Error {
  override readonly name = 'StaleSocketError';
}

function staleOrSelf(request: http.ClientRequest, error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return request.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') ? new StaleSocketError(error.message, { cause: error }) : error;
}

function deliver(line: string, callback: WatchCallback): void {
  const event: unknown = JSON.parse(line);
  if (typeof event !== 'object' || event === null || !('type' in event) || typeof event.type !== 'string') return;
  callback(event.type, 'object' in event ? event.object : undefined);
}

function tlsOptions(connection: KubeConnection): https.AgentOptions {
  const { ca, cert, key, rejectUnauthorized, servername } = connection.tls;
  return { rejectUnauthorized, ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(servername === undefined ? {} : { servername }) };
}

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}
