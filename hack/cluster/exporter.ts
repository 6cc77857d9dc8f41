// Test exporter of `istio_requests_total` for the hermetic test cluster. The gateway (istio-ingressgateway in
// istio-ingress) is exported from both sides: as a destination, and as the source of what it forwards.
//
// Serves GET /metrics on 127.0.0.1:9400 (inside the cluster's network namespace). Every (namespace, workload)
// series receives a fixed request rate (default 10 req/s); a settable fraction of them are 5xx ("503"), the
// rest "200". Counters are advanced from the elapsed wall-clock time whenever they are read or a setting
// changes, so a new ratio applies from the moment it is set and `rate(...[10s])` shows it within a few
// scrapes (Prometheus scrapes every second here).
//
// Control endpoints (plain HTTP, JSON answers):
//   POST /ratio?namespace=bar&value=0.5[&workload=w]  set the 5xx fraction (0..1) of a namespace (or one workload)
//   POST /rate?namespace=bar&value=0[&workload=w]     set the request rate in req/s (0 = no traffic)
//   GET  /ratios                                      current settings and counter values of every series
//   POST /reset                                       back to the default namespaces, ratio 0, default rate
//   GET  /healthz                                     "ok"
// Namespaces not known yet are created on first POST (with one workload). Settings may also come as a JSON
// body ({"namespace":"bar","value":0.5}) instead of the query string.
//
// Flags / env: --listen host:port (IUO_EXPORTER_LISTEN, default 127.0.0.1:9400)
//              --namespaces a,b,c  (IUO_EXPORTER_NAMESPACES, default foo,bar,baz,qux,istio-ingress)
//              --rate n            (IUO_EXPORTER_RATE, default 10 req/s per workload)
// Run: node hack/cluster/exporter.ts
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { serveUntilSignalled } from './serve-until-signalled.ts';

export const DEFAULT_NAMESPACES = ['foo', 'bar', 'baz', 'qux', 'istio-ingress'];
export const DEFAULT_RATE = 10;

/** The workload a namespace gets when none is named; istio-ingress gets its gateway's usual name. */
export function defaultWorkload(namespace: string): string {
  // A real workload of the sample mesh (hack/e2e/mesh.ts), so queries that filter on {{workloads}} find it.
  return namespace === 'istio-ingress' ? 'istio-ingressgateway' : `${namespace}-api`;
}

interface Series {
  namespace: string;
  workload: string;
  ratio: number; // fraction of 5xx answers, 0..1
  rate: number; // requests per second
  ok: number; // counter of "200"
  errors: number; // counter of "503"
}

/** In-process model of the traffic: counters advanced by elapsed time (the clock is injectable for tests). */
export class Traffic {
  private readonly series = new Map<string, Series>();
  private readonly defaults: { namespaces: string[]; rate: number };
  private readonly now: () => number;
  private last: number;

  constructor(defaults: { namespaces: string[]; rate: number }, now: () => number = () => Date.now()) {
    this.defaults = defaults;
    this.now = now;
    this.last = now();
    this.reset();
  }

  reset(): void {
    this.series.clear();
    this.last = this.now();
    for (const ns of this.defaults.namespaces) this.ensure(ns, undefined);
  }

  private ensure(namespace: string, workload: string | undefined): Series[] {
    const existing = [...this.series.values()].filter(
      (s) => s.namespace === namespace && (workload === undefined || s.workload === workload),
    );
    if (existing.length > 0) return existing;
    const name = workload ?? defaultWorkload(namespace);
    const s: Series = { namespace, workload: name, ratio: 0, rate: this.defaults.rate, ok: 0, errors: 0 };
    this.series.set(`${namespace}/${name}`, s);
    return [s];
  }

  /** Accrue the requests of the time elapsed since the last call at the settings that were in force. */
  advance(): void {
    const now = this.now();
    const dt = Math.max(0, now - this.last) / 1000;
    this.last = now;
    for (const s of this.series.values()) {
      const n = s.rate * dt;
      s.errors += n * s.ratio;
      s.ok += n * (1 - s.ratio);
    }
  }

  set(field: 'ratio' | 'rate', namespace: string, value: number, workload?: string): Series[] {
    this.advance();
    const targets = this.ensure(namespace, workload);
    for (const s of targets) s[field] = value;
    return targets;
  }

  snapshot(): Series[] {
    this.advance();
    return [...this.series.values()].map((s) => ({ ...s }));
  }

  metrics(): string {
    const lines = [
      '# HELP istio_requests_total Requests served, simulated by the iuo test exporter.',
      '# TYPE istio_requests_total counter',
    ];
    for (const s of this.snapshot()) {
      for (const [code, value] of [
        ['200', s.ok],
        ['503', s.errors],
      ] as const) {
        const labels = [
          `destination_workload_namespace="${s.namespace}"`,
          `destination_workload="${s.workload}"`,
          `destination_service_namespace="${s.namespace}"`,
          `response_code="${code}"`,
          'reporter="destination"',
        ].join(',');
        lines.push(`istio_requests_total{${labels}} ${value.toFixed(3)}`);
        // A gateway is a traffic source too: its proxy reports what it forwards (reporter="source").
        if (s.workload === defaultWorkload('istio-ingress')) {
          const source = [
            `source_workload_namespace="${s.namespace}"`,
            `source_workload="${s.workload}"`,
            'destination_service_namespace="bar"',
            `response_code="${code}"`,
            'reporter="source"',
          ].join(',');
          lines.push(`istio_requests_total{${source}} ${value.toFixed(3)}`);
        }
      }
    }
    return lines.join('\n') + '\n';
  }
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
  const params: Record<string, string> = Object.fromEntries(url.searchParams);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8').trim();
  if (body.startsWith('{')) {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v === 'string' || typeof v === 'number') params[k] = String(v);
    }
  } else if (body !== '') {
    for (const [k, v] of new URLSearchParams(body)) params[k] = v;
  }
  return params;
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': type });
  res.end(text);
}

export function createExporter(traffic: Traffic) {
  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://exporter');
      const method = req.method ?? 'GET';
      if (method === 'GET' && url.pathname === '/metrics') {
        send(res, 200, traffic.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
      } else if (method === 'GET' && url.pathname === '/healthz') {
        send(res, 200, 'ok\n', 'text/plain');
      } else if (method === 'GET' && (url.pathname === '/ratios' || url.pathname === '/rates')) {
        send(res, 200, traffic.snapshot());
      } else if (method === 'POST' && url.pathname === '/reset') {
        traffic.reset();
        send(res, 200, traffic.snapshot());
      } else if (method === 'POST' && (url.pathname === '/ratio' || url.pathname === '/rate')) {
        const p = await readParams(req, url);
        const namespace = p['namespace'] ?? '';
        const workload = p['workload'];
        const value = Number(p['value']);
        const field = url.pathname === '/ratio' ? 'ratio' : 'rate';
        if (!NAME_RE.test(namespace) || (workload !== undefined && !NAME_RE.test(workload))) {
          send(res, 400, { error: 'namespace (and workload, if given) must be DNS labels' });
        } else if (!Number.isFinite(value) || value < 0 || (field === 'ratio' && value > 1)) {
          send(res, 400, { error: field === 'ratio' ? 'value must be a number in [0, 1]' : 'value must be a number >= 0' });
        } else {
          send(res, 200, traffic.set(field, namespace, value, workload));
        }
      } else {
        send(res, 404, { error: `no route ${method} ${url.pathname}` });
      }
    })().catch((err: unknown) => {
      send(res, 400, { error: err instanceof Error ? err.message : String(err) });
    });
  });
}

function main(): void {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: process.env['IUO_EXPORTER_LISTEN'] ?? '127.0.0.1:9400' },
      namespaces: { type: 'string', default: process.env['IUO_EXPORTER_NAMESPACES'] ?? DEFAULT_NAMESPACES.join(',') },
      rate: { type: 'string', default: process.env['IUO_EXPORTER_RATE'] ?? String(DEFAULT_RATE) },
    },
  });
  const namespaces = values.namespaces.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const rate = Number(values.rate);
  const sep = values.listen.lastIndexOf(':');
  const host = values.listen.slice(0, sep);
  const port = Number(values.listen.slice(sep + 1));
  if (!Number.isFinite(rate) || rate < 0 || sep < 0 || !Number.isInteger(port)) {
    console.error(`exporter: bad --rate ${values.rate} or --listen ${values.listen}`);
    process.exit(2);
  }
  const server = createExporter(new Traffic({ namespaces, rate }));
  serveUntilSignalled(server, port, host, () => {
    console.log(`exporter: listening on http://${values.listen} (namespaces ${namespaces.join(',')}, ${rate} req/s each)`);
  });
}

if (import.meta.main) main();
