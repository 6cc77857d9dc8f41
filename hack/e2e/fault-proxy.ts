// An HTTPS proxy in front of the hermetic API server that injects the faults a real control plane produces:
// 500s (before a write is applied, or after it went through and only the answer is lost), 409 Conflicts on
// writes, 429s with Retry-After, watch streams cut after a while, a reset of every connection at once, and Lease
// requests black-holed. It listens on 127.0.0.1 inside the cluster's network namespace, serves the API server's
// own certificate (its SANs include 127.0.0.1) and talks upstream with the kubeconfig's client certificate, so
// the operator's kubeconfig only changes its server address.
import { Agent, createServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse, ClientRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { Kube } from './kube.ts';

export interface FaultRates {
  /** Share of non-watch requests answered 500. */
  readonly error500: number;
  /** Of those 500s on writes, the share sent after the write was applied upstream (the answer is lost). */
  readonly error500AfterApply: number;
  /** Share of writes answered 409 Conflict. */
  readonly conflict409: number;
  /** Share of non-watch requests answered 429 with Retry-After: 1. */
  readonly tooMany429: number;
  /** Cut every watch stream after a random time in this range; undefined: watches are left alone. */
  readonly watchCutMs: readonly [number, number] | undefined;
}

export const NO_FAULTS: FaultRates = { error500: 0, error500AfterApply: 0, conflict409: 0, tooMany429: 0, watchCutMs: undefined };

export interface FaultCounters {
  requests: number;
  watches: number;
  error500Before: number;
  error500AfterApply: number;
  conflict409: number;
  tooMany429: number;
  watchCuts: number;
  resets: number;
  blackHoled: number;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A small seeded generator (mulberry32), so that a failing run can be repeated with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function status(res: ServerResponse, code: number, reason: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

interface KubeconfigFile {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
}

export class FaultProxy {
  rates: FaultRates;
  /** Lease requests get no answer at all while set (the connection stays open). */
  blackHoleLeases = false;
  readonly counters: FaultCounters = { requests: 0, watches: 0, error500Before: 0, error500AfterApply: 0, conflict409: 0, tooMany429: 0, watchCuts: 0, resets: 0, blackHoled: 0 };
  readonly seed: number;
  private readonly next: () => number;
  private readonly upstream: URL;
  private readonly agent: Agent;
  private readonly tls: { ca: Buffer; cert: Buffer; key: Buffer };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly upstreamRequests = new Set<ClientRequest>();

  constructor(kube: Kube, rates: FaultRates, seed = Date.now() % 2 ** 31) {
    this.rates = rates;
    this.seed = seed;
    this.next = seededRandom(seed);
    const raw = yaml.load(readFileSync(kube.info.kubeconfigPath, 'utf8')) as KubeconfigFile;
    const rawCluster = raw.clusters[0];
    const rawUser = raw.users[0];
    if (rawCluster === undefined || rawUser === undefined) throw new Error(`${kube.info.kubeconfigPath}: no cluster or user`);
    this.upstream = new URL(rawCluster.cluster.server);
    this.tls = {
      ca: Buffer.from(rawCluster.cluster['certificate-authority-data'], 'base64'),
      cert: Buffer.from(rawUser.user['client-certificate-data'], 'base64'),
      key: Buffer.from(rawUser.user['client-key-data'], 'base64'),
    };
    this.agent = new Agent({ keepAlive: true, ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key });
  }

  /** Starts listening on 127.0.0.1; returns the URL to use as the kubeconfig's server. */
  async start(): Promise<string> {
    const server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => {
      this.handle(req, res);
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Writes a copy of the cluster kubeconfig that reaches the API server through this proxy. */
  writeKubeconfig(kube: Kube, url: string, path: string): string {
    const config = yaml.load(readFileSync(kube.info.kubeconfigPath, 'utf8')) as KubeconfigFile;
    for (const c of config.clusters) c.cluster.server = url;
    writeFileSync(path, yaml.dump(config));
    return path;
  }

  /** What an API server restart does: every connection, client side and upstream, is reset at once. */
  resetAll(): void {
    this.counters.resets += 1;
    for (const r of this.upstreamRequests) r.destroy();
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.resetAll();
    this.counters.resets -= 1;
    await new Promise<void>((resolve) => {
      if (this.server === undefined) resolve();
      else this.server.close(() => {
        resolve();
      });
    });
    this.agent.destroy();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const write = WRITES.has(req.method ?? 'GET');
    this.counters.requests += 1;
    if (watch) this.counters.watches += 1;
    if (this.blackHoleLeases && url.pathname.includes('/apis/coordination.k8s.io/') && url.pathname.includes('/leases')) {
      this.counters.blackHoled += 1;
      req.resume();
      return;
    }
    if (!watch) {
      const r = this.next();
      if (r < this.rates.tooMany429) {
        this.counters.tooMany429 += 1;
        req.resume();
        status(res, 429, 'TooManyRequests', 'injected: too many requests, please try again later', { 'retry-after': '1' });
        return;
      }
      if (write && this.next() < this.rates.conflict409) {
        this.counters.conflict409 += 1;
        req.resume();
        status(res, 409, 'Conflict', 'injected: Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again');
        return;
      }
      if (this.next() < this.rates.error500) {
        if (write && this.next() < this.rates.error500AfterApply) {
          this.counters.error500AfterApply += 1;
          this.forward(req, res, false, true);
          return;
        }
        this.counters.error500Before += 1;
        req.resume();
        status(res, 500, 'InternalError', 'injected: an error on the server has prevented the request from succeeding');
        return;
      }
    }
    this.forward(req, res, watch, false);
  }

  private forward(req: IncomingMessage, res: ServerResponse, watch: boolean, loseAnswer: boolean): void {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const upstream = request(
      { protocol: this.upstream.protocol, hostname: this.upstream.hostname, port: this.upstream.port, path: req.url, method: req.method, headers, agent: this.agent },
      (answer) => {
        if (loseAnswer) {
          // The write went through; only the answer is lost.
          answer.resume();
          answer.once('end', () => {
            status(res, 500, 'InternalError', 'injected: the write was applied, the answer lost');
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // The API server flushes a watch's headers at once (k8s.io/apiserver endpoints/handlers/watch.go:
        // WriteHeader(200), then Flush()); Node holds them until the first body byte, so a quiet watch cut
        // before its first event would look to the client like a request never answered.
        if (watch) res.flushHeaders();
        answer.pipe(res);
        if (watch && this.rates.watchCutMs !== undefined) {
          const [min, max] = this.rates.watchCutMs;
          const timer = setTimeout(() => {
            this.counters.watchCuts += 1;
            upstream.destroy();
            res.destroy();
          }, min + this.next() * (max - min));
          res.once('close', () => {
            clearTimeout(timer);
          });
        }
      },
    );
    this.upstreamRequests.add(upstream);
    upstream.once('close', () => this.upstreamRequests.delete(upstream));
    upstream.on('error', () => {
      if (!res.headersSent) status(res, 502, 'ServiceUnavailable', 'proxy: upstream failed');
      else res.destroy();
    });
    res.once('close', () => {
      if (watch) upstream.destroy();
    });
    req.pipe(upstream);
  }
}
