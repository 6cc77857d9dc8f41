// npm run bench -- --namespaces N --per-ns P --concurrency C: a whole upgrade of a large mesh on the hermetic
// cluster, measured. N namespaces x P Deployments (1 replica, injected by the old revision's tag) are added to
// the sample mesh; the operator upgrades it (waves: canary, then the rest C namespaces at a time, short soaks);
// then the same restarts are driven directly through the API at the same concurrency (the floor). Results go to
// bench/results/cluster-<N>x<P>-c<C>.json. Timings are reported, never asserted: these machines are shared.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Watch, type V1Deployment } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, ISTIO_REV_LABEL, PLURAL, RESTARTED_FOR_ANNOTATION } from '../src/api/constants.ts';
import { clusterInfo, ensureClusterUp, insideNetns } from '../hack/cluster/cluster.ts';
import { shapeNamespaces } from '../hack/e2e/control-plane.ts';
import { connect, kubectl, sleep, waitFor, type Kube } from '../hack/e2e/kube.ts';
import { APP_NAMESPACES, applyObjects, resetMesh } from '../hack/e2e/mesh.ts';
import { OperatorProcess, installOperatorManifests } from '../hack/e2e/operator.ts';
import { sampleSpec } from '../hack/e2e/scenario.ts';
import { createUpgrade, deleteAllUpgrades, waitForPhase, type LiveUpgrade } from '../hack/e2e/upgrades.ts';
import { deployment, shapeNamespace } from '../hack/e2e/workloads.ts';

const { values } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '200' },
    'per-ns': { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '50' },
    soak: { type: 'string', default: '5s' },
    entry: { type: 'string' },
    'node-args': { type: 'string', default: '' },
    /** e.g. "MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=65536" (what the image sets). */
    'operator-env': { type: 'string', default: '' },
    label: { type: 'string', default: '' },
    /** info: the operator's action lines (with the API's answer time) break each slot refill down. */
    'log-level': { type: 'string', default: 'info' },
    /** Skip the floor (a long run whose ratio is already known from smaller ones); ratio and floor refill are then absent. */
    'skip-floor': { type: 'boolean', default: false },
  },
});
const NAMESPACES = Number(values.namespaces);
const PER_NS = Number(values['per-ns']);
const CONCURRENCY = Number(values.concurrency);
const BENCH_LABEL = 'iuo.bench/workload';
/** On the benchmark's extra nodes, removed at the end so that the tests' DaemonSets see the usual three nodes. */
const BENCH_NODE_LABEL = 'iuo.bench/node';
const PODS_PER_BENCH_NODE = 1000;

const benchNamespace = (i: number): string => `bench-${String(i).padStart(5, '0')}`;

function log(line: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function percentile(xs: readonly number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(xs: readonly number[]): { n: number; median: number | undefined; p90: number | undefined; p99: number | undefined; max: number | undefined } {
  return { n: xs.length, median: percentile(xs, 50), p90: percentile(xs, 90), p99: percentile(xs, 99), max: percentile(xs, 100) };
}

/** Extra kwok nodes so the cluster can hold the benchmark's pods (kwok-controller manages every node). */
async function addNodes(kube: Kube, pods: number): Promise<void> {
  const count = Math.ceil(pods / PODS_PER_BENCH_NODE);
  const nodes = Array.from({ length: count }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `bench-node-${i}`, annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' }, labels: { type: 'kwok', 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': `bench-node-${i}`, [BENCH_NODE_LABEL]: 'true' } },
    spec: {},
    status: { allocatable: { cpu: '512', memory: '2Ti', pods: String(PODS_PER_BENCH_NODE) }, capacity: { cpu: '512', memory: '2Ti', pods: String(PODS_PER_BENCH_NODE) } },
  }));
  await applyObjects(kube, nodes);
  await kubectl(kube, ['wait', '--for=condition=Ready', 'node', '--all', '--timeout=120s']);
}

/** The samples of one kube-apiserver metric (its /metrics): their labels and values. */
async function apiserverSamples(kube: Kube, metric: string): Promise<{ labels: Map<string, string>; value: number }[]> {
  return samplesOf(await kubectl(kube, ['get', '--raw', '/metrics']), metric);
}

/** The samples of one metric in a Prometheus text exposition. */
function samplesOf(text: string, metric: string): { labels: Map<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`))
    .map((line) => ({ labels: new Map([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? ''])), value: Number(line.slice(line.lastIndexOf(' ') + 1)) }));
}

/** kube-apiserver request counters by verb/resource/subresource. */
async function apiserverRequests(kube: Kube): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const { labels, value } of await apiserverSamples(kube, 'apiserver_request_total')) {
    const verb = labels.get('verb') ?? '';
    if (['GET', 'LIST', 'WATCH'].includes(verb)) continue;
    const subresource = labels.get('subresource') ?? '';
    const key = `${verb} ${labels.get('resource') ?? ''}${subresource === '' ? '' : `/${subresource}`}`;
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

/** A cumulative latency histogram: bucket upper bound in s -> count. */
type Histogram = Map<number, number>;

/**
 * Deployment PATCHes, timed three ways by kube-apiserver: the whole answer; the same without the wait in
 * priority-and-fairness queues and webhooks (its SLI); and etcd's part (the update behind each PATCH).
 */
const isDeploymentPatch = (l: Map<string, string>): boolean => l.get('verb') === 'PATCH' && l.get('resource') === 'deployments' && (l.get('subresource') ?? '') === '';
const PATCH_LATENCY_METRICS = {
  answer: { metric: 'apiserver_request_duration_seconds_bucket', match: isDeploymentPatch },
  withoutQueues: { metric: 'apiserver_request_sli_duration_seconds_bucket', match: isDeploymentPatch },
  etcdUpdate: { metric: 'etcd_request_duration_seconds_bucket', match: (l: Map<string, string>) => l.get('operation') === 'update' && l.get('group') === 'apps' && l.get('resource') === 'deployments' },
} as const;
type PatchLatencies = Record<keyof typeof PATCH_LATENCY_METRICS, Histogram>;

/** The three histograms, from one scrape. */
async function apiserverPatchLatency(kube: Kube): Promise<PatchLatencies> {
  const text = await kubectl(kube, ['get', '--raw', '/metrics']);
  const histogram = ({ metric, match }: { metric: string; match: (labels: Map<string, string>) => boolean }): Histogram => {
    const out: Histogram = new Map();
    for (const { labels, value } of samplesOf(text, metric)) {
      if (!match(labels)) continue;
      const le = labels.get('le') === '+Inf' ? Infinity : Number(labels.get('le'));
      out.set(le, (out.get(le) ?? 0) + value);
    }
    return out;
  };
  const { answer, withoutQueues, etcdUpdate } = PATCH_LATENCY_METRICS;
  return { answer: histogram(answer), withoutQueues: histogram(withoutQueues), etcdUpdate: histogram(etcdUpdate) };
}

/**
 * Between two scrapes: how many took more than 50, 100 and 200 ms, and the bucket the p99 falls in. A slot refill
 * includes one Deployment PATCH, so these bound what any client can reach.
 */
function latencyBetween(before: Histogram, after: Histogram): { n: number; over50Ms: number; over100Ms: number; over200Ms: number; p99AtMostMs: number | undefined } {
  const delta = [...after].map(([le, count]) => [le, count - (before.get(le) ?? 0)] as const).sort((a, b) => a[0] - b[0]);
  const n = delta.at(-1)?.[1] ?? 0;
  // A bound the histogram lacks (etcd has no 0.05 bucket in some versions) reads as unknown, not as zero.
  const over = (seconds: number): number => {
    const within = delta.find(([le]) => le === seconds)?.[1];
    return within === undefined ? NaN : n - within;
  };
  const p99 = n === 0 ? undefined : delta.find(([, count]) => count >= 0.99 * n)?.[0];
  return { n, over50Ms: over(0.05), over100Ms: over(0.1), over200Ms: over(0.2), p99AtMostMs: p99 === undefined || !Number.isFinite(p99) ? undefined : p99 * 1000 };
}

function patchLatencyBetween(before: PatchLatencies, after: PatchLatencies): Record<keyof PatchLatencies, ReturnType<typeof latencyBetween>> {
  return { answer: latencyBetween(before.answer, after.answer), withoutQueues: latencyBetween(before.withoutQueues, after.withoutQueues), etcdUpdate: latencyBetween(before.etcdUpdate, after.etcdUpdate) };
}

/** The operator's GC pauses by kind (prom-client's histogram, cumulative): how many, and how many over 50 and 100 ms. */
function gcPauses(metricsText: string): Record<string, { n: number; over50Ms: number; over100Ms: number }> {
  const byKind = new Map<string, Histogram>();
  for (const { labels, value } of samplesOf(metricsText, 'istio_upgrade_operator_nodejs_gc_duration_seconds_bucket')) {
    const kind = labels.get('kind') ?? '';
    const histogram = byKind.get(kind) ?? new Map<number, number>();
    histogram.set(labels.get('le') === '+Inf' ? Infinity : Number(labels.get('le')), value);
    byKind.set(kind, histogram);
  }
  return Object.fromEntries([...byKind].map(([kind, histogram]) => {
    const { n, over50Ms, over100Ms } = latencyBetween(new Map(), histogram);
    return [kind, { n, over50Ms, over100Ms }];
  }));
}

/** Samples the operator's RSS and CPU from /proc every 250 ms. */
class ProcessSampler {
  peakRssKb = 0;
  lastRssKb = 0;
  /** Anonymous (heap, stacks, malloc) and file-backed (the node binary's pages) parts of the last and the largest sample. */
  last = { anonKb: 0, fileKb: 0 };
  atPeak = { anonKb: 0, fileKb: 0 };
  cpuSeconds = 0;
  private timer: NodeJS.Timeout | undefined;

  start(pid: number): void {
    const sample = (): void => {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        this.last = { anonKb: Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0), fileKb: Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0) };
        if (rss >= this.atPeak.anonKb + this.atPeak.fileKb) this.atPeak = this.last;
        this.lastRssKb = rss;
        this.peakRssKb = Math.max(this.peakRssKb, rss, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
        this.cpuSeconds = processJiffies(pid) / USER_HZ;
      } catch {
        // the process ended
      }
    };
    sample();
    this.timer = setInterval(sample, 250);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The cluster's own processes, by /proc/PID/comm (truncated to 15 characters by the kernel). */
const CLUSTER_COMPONENTS = ['kube-apiserver', 'etcd', 'kube-controller', 'kube-scheduler', 'kwok-controller'] as const;

interface CpuSample {
  at: number;
  /** /proc/stat: jiffies busy and in all, every core summed. */
  busy: number;
  all: number;
  /** Jiffies (user + system) of each process group so far. */
  byProcess: Record<string, number>;
}

/**
 * Where the machine's CPU goes during a window: the cluster's components, the operator and this benchmark, sampled
 * from /proc every 250 ms. On a 2-core machine the cluster and the operator share the cores, so a rollout that is
 * slower than the floor with the machine busy is CPU contention, not the operator waiting.
 */
class MachineCpu {
  readonly samples: CpuSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pids = new Map<string, number[]>();

  start(operatorPid: () => number | undefined): void {
    this.pids = clusterPids();
    const sample = (): void => {
      const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
      const all = line.reduce((a, b) => a + b, 0);
      const idle = (line[3] ?? 0) + (line[4] ?? 0);
      const byProcess: Record<string, number> = {};
      for (const [name, pids] of this.pids) byProcess[name] = pids.reduce((a, pid) => a + processJiffies(pid), 0);
      const op = operatorPid();
      byProcess['operator'] = op === undefined ? (this.samples.at(-1)?.byProcess['operator'] ?? 0) : processJiffies(op);
      byProcess['bench'] = processJiffies(process.pid);
      this.samples.push({ at: Date.now(), busy: all - idle, all, byProcess });
    };
    sample();
    this.timer = setInterval(sample, 250);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Between two instants: how many cores were busy on average, and the CPU seconds of each process group. */
  window(from: number, to: number): { seconds: number; busyCores: number; cpuSeconds: Record<string, number> } | undefined {
    const first = this.samples.find((s) => s.at >= from);
    const last = this.samples.findLast((s) => s.at <= to);
    if (first === undefined || last === undefined || last.at <= first.at) return undefined;
    const cores = cpus().length;
    const cpuSeconds: Record<string, number> = {};
    for (const name of Object.keys(last.byProcess)) cpuSeconds[name] = ((last.byProcess[name] ?? 0) - (first.byProcess[name] ?? 0)) / USER_HZ;
    return { seconds: (last.at - first.at) / 1000, busyCores: ((last.busy - first.busy) / (last.all - first.all)) * cores, cpuSeconds };
  }
}

/** Clock ticks per second of /proc's CPU times on Linux. */
const USER_HZ = 100;

/** User + system CPU of a process so far, in clock ticks; 0 once it has ended. */
function processJiffies(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  } catch {
    return 0; // the process ended
  }
}

function clusterPids(): Map<string, number[]> {
  const out = new Map<string, number[]>(CLUSTER_COMPONENTS.map((c) => [c, []]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm = '';
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    out.get(comm)?.push(Number(entry));
  }
  return out;
}

interface Rollout {
  /** When the restart reached the Deployment (its template changed). */
  patchedAt?: number;
  /** When its rollout was complete afterwards. */
  doneAt?: number;
}

/** Watches the bench Deployments: when each restart landed and when its rollout completed. */
class RolloutWatch {
  readonly rollouts = new Map<string, Rollout>();
  private readonly initial = new Map<string, string>();
  private watch: KeptWatch | undefined;
  private readonly stampOf: (d: V1Deployment) => string | undefined;

  constructor(stampOf: (d: V1Deployment) => string | undefined) {
    this.stampOf = stampOf;
  }

  async start(kube: Kube): Promise<void> {
    const list = await kube.apps.listDeploymentForAllNamespaces({ labelSelector: BENCH_LABEL });
    for (const d of list.items) this.initial.set(key(d), this.stampOf(d) ?? '');
    this.watch = new KeptWatch('deployments', '/apis/apps/v1/deployments', { labelSelector: BENCH_LABEL }, list.metadata?.resourceVersion ?? '', (d) => {
      this.seen(d);
    });
    await this.watch.start(kube);
  }

  private seen(d: V1Deployment): void {
    const k = key(d);
    const now = Date.now();
    const entry = this.rollouts.get(k) ?? {};
    if (entry.patchedAt === undefined && (this.stampOf(d) ?? '') !== (this.initial.get(k) ?? '')) entry.patchedAt = now;
    const s = d.status;
    const complete = s?.observedGeneration === d.metadata?.generation && s?.updatedReplicas === d.spec?.replicas && s?.replicas === d.spec?.replicas && s?.readyReplicas === d.spec?.replicas;
    if (entry.patchedAt !== undefined && entry.doneAt === undefined && complete) entry.doneAt = now;
    this.rollouts.set(k, entry);
  }

  done(count: number): boolean {
    return [...this.rollouts.values()].filter((r) => r.doneAt !== undefined).length >= count;
  }

  stop(): void {
    this.watch?.stop();
  }
}

interface Watched {
  metadata?: { resourceVersion?: string };
}

/**
 * A watch started again from the last resourceVersion it saw whenever it ends (the API server or a client timeout
 * closes watches after a while), from the given one at first; a 410 (too old) starts over from now.
 */
class KeptWatch {
  private abort: { abort: () => void } | undefined;
  private stopped = false;
  private resourceVersion: string;
  private readonly what: string;
  private readonly path: string;
  private readonly query: Record<string, string>;
  private readonly seen: (o: Watched) => void;

  constructor(what: string, path: string, query: Record<string, string>, resourceVersion: string, seen: (o: Watched) => void) {
    this.what = what;
    this.path = path;
    this.query = query;
    this.resourceVersion = resourceVersion;
    this.seen = seen;
  }

  async start(kube: Kube): Promise<void> {
    if (this.stopped) return;
    const query = { ...this.query, allowWatchBookmarks: true, ...(this.resourceVersion === '' ? {} : { resourceVersion: this.resourceVersion }) };
    this.abort = await new Watch(kube.config).watch(this.path, query, (type: string, o: Watched) => {
      this.resourceVersion = o.metadata?.resourceVersion ?? this.resourceVersion;
      if (type !== 'BOOKMARK') this.seen(o);
    }, (err: unknown) => {
      if (this.stopped) return;
      const reason: string = err instanceof Error ? err.message : JSON.stringify(err);
      if (err !== null && err !== undefined) log(`${this.what} watch ended (${reason}); watching again`);
      if (reason.includes('410')) this.resourceVersion = '';
      setTimeout(() => void this.start(kube).catch(() => undefined), 100);
    });
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }
}

function key(d: V1Deployment): string {
  return `${d.metadata?.namespace ?? ''}/${d.metadata?.name ?? ''}`;
}

/** Per namespace: the first restart and the completion of its last rollout. */
function byNamespace(rollouts: Map<string, Rollout>): Map<string, { start: number; end: number }> {
  const out = new Map<string, { start: number; end: number }>();
  for (const [k, r] of rollouts) {
    if (r.patchedAt === undefined || r.doneAt === undefined) continue;
    const ns = k.split('/')[0] ?? '';
    const entry = out.get(ns) ?? { start: Infinity, end: 0 };
    out.set(ns, { start: Math.min(entry.start, r.patchedAt), end: Math.max(entry.end, r.doneAt) });
  }
  return out;
}

/**
 * Slot refill: with C slots, the (C+j)-th namespace to start waited for the j-th to finish. The latency is
 * from that finish to that start (both seen through the same watch).
 */
function refillLatencies(namespaces: Map<string, { start: number; end: number }>, slots: number): number[] {
  return refills(namespaces, slots).map((r) => Math.max(0, r.start - r.freed));
}

/** Each refill: the namespace that started, when, and when the slot it took was freed. */
function refills(namespaces: Map<string, { start: number; end: number }>, slots: number): { namespace: string; start: number; freed: number }[] {
  const byStart = [...namespaces].sort((a, b) => a[1].start - b[1].start);
  const ends = [...namespaces.values()].map((n) => n.end).sort((a, b) => a - b);
  const out: { namespace: string; start: number; freed: number }[] = [];
  for (let j = 0; slots + j < byStart.length; j++) {
    const started = byStart[slots + j];
    const freed = ends[j];
    if (started !== undefined && freed !== undefined) out.push({ namespace: started[0], start: started[1].start, freed });
  }
  return out;
}

/** The operator's first Deployment restart in a namespace: when it sent the PATCH and when the answer came. */
interface FirstRestart {
  readonly sentAt: number;
  readonly answeredAt: number;
}

/** From the operator's log: per namespace, its first restartWorkload action (log time = answer, minus durationMs = sent). */
function firstRestarts(operatorLog: string): Map<string, FirstRestart> {
  const out = new Map<string, FirstRestart>();
  for (const line of operatorLog.split('\n')) {
    if (!line.includes('"action":"restartWorkload"')) continue;
    const entry = JSON.parse(line) as { time: string; target?: string; durationMs?: number; outcome?: string };
    const namespace = /^Deployment\/([^/]+)\//.exec(entry.target ?? '')?.[1];
    if (namespace === undefined || entry.durationMs === undefined || entry.outcome !== 'done') continue;
    const answeredAt = Date.parse(entry.time);
    const sentAt = answeredAt - entry.durationMs;
    const known = out.get(namespace);
    if (known === undefined || sentAt < known.sentAt) out.set(namespace, { sentAt, answeredAt });
  }
  return out;
}

/**
 * Each slot refill cut in three, paired sample by sample: the operator's reaction (the freed slot seen through
 * the watch, a pass planned, until the next namespace's first PATCH left), the API server's answer to that PATCH,
 * and the time until the benchmark's watch saw the restart (negative: seen before the answer arrived).
 */
function refillBreakdown(namespaces: Map<string, { start: number; end: number }>, slots: number, restarts: Map<string, FirstRestart>): { freedAt: number; totalMs: number; reactionMs: number; apiMs: number; seenMs: number }[] {
  const out: { freedAt: number; totalMs: number; reactionMs: number; apiMs: number; seenMs: number }[] = [];
  for (const { namespace, start, freed } of refills(namespaces, slots)) {
    const first = restarts.get(namespace);
    if (first !== undefined) out.push({ freedAt: freed, totalMs: Math.max(0, start - freed), reactionMs: first.sentAt - freed, apiMs: first.answeredAt - first.sentAt, seenMs: start - first.answeredAt });
  }
  return out.sort((a, b) => b.totalMs - a.totalMs);
}

function durations(namespaces: Map<string, { start: number; end: number }>): number[] {
  return [...namespaces.values()].map((n) => n.end - n.start);
}

/** From the first namespace's start to the last one's end. */
function extent(namespaces: Map<string, { start: number; end: number }>): { from: number; to: number } {
  const all = [...namespaces.values()];
  return { from: Math.min(...all.map((n) => n.start)), to: Math.max(...all.map((n) => n.end)) };
}

function windowOf(machine: MachineCpu, namespaces: Map<string, { start: number; end: number }>): ReturnType<MachineCpu['window']> {
  if (namespaces.size === 0) return undefined;
  const { from, to } = extent(namespaces);
  return machine.window(from, to);
}

function span(namespaces: Map<string, { start: number; end: number }>): number {
  const { from, to } = extent(namespaces);
  return to - from;
}

async function createBenchMesh(kube: Kube): Promise<void> {
  const objects: object[] = [];
  for (let i = 0; i < NAMESPACES; i++) {
    const ns = benchNamespace(i);
    objects.push(shapeNamespace(ns, { [ISTIO_REV_LABEL]: 'default' }));
    for (let j = 0; j < PER_NS; j++) objects.push(deployment(ns, `app-${j}`, { labels: { [BENCH_LABEL]: 'true' } }));
  }
  for (let i = 0; i < objects.length; i += 500) await applyObjects(kube, objects.slice(i, i + 500));
  const total = NAMESPACES * PER_NS;
  await waitFor(`${total} bench Deployments available`, async () => {
    const list = await kube.apps.listDeploymentForAllNamespaces({ labelSelector: BENCH_LABEL });
    const ready = list.items.filter((d) => d.status?.readyReplicas === 1).length;
    return ready >= total ? ready : undefined;
  }, 60 * 60_000, 5000);
}

async function cleanBenchNamespaces(kube: Kube): Promise<void> {
  const names = (await shapeNamespaces(kube)).filter((n) => n.startsWith('bench-'));
  if (names.length === 0) return;
  log(`deleting ${names.length} bench namespaces of an earlier run...`);
  for (const name of names) await kube.core.deleteNamespace({ name }).catch(() => undefined);
  await waitFor('bench namespaces gone', async () => ((await shapeNamespaces(kube)).some((n) => n.startsWith('bench-')) ? undefined : true), 60 * 60_000, 5000);
}

/** The floor: the same restarts driven directly through the API, C namespaces at a time, each slot refilled at once. */
async function floorRun(kube: Kube, namespaces: readonly string[]): Promise<Map<string, { start: number; end: number }>> {
  const watch = new RolloutWatch((d) => d.spec?.template.metadata?.annotations?.['bench/floor']);
  await watch.start(kube);
  const stamp = new Date().toISOString();
  const queue = [...namespaces];
  const slot = async (): Promise<void> => {
    for (let ns = queue.shift(); ns !== undefined; ns = queue.shift()) {
      const list = await kube.apps.listNamespacedDeployment({ namespace: ns, labelSelector: BENCH_LABEL });
      for (const d of list.items) {
        await kube.apps.patchNamespacedDeployment({ name: d.metadata?.name ?? '', namespace: ns, body: { spec: { template: { metadata: { annotations: { 'bench/floor': stamp } } } } } }, mergePatch);
      }
      const names = list.items.map((d) => `${ns}/${d.metadata?.name ?? ''}`);
      while (!names.every((n) => watch.rollouts.get(n)?.doneAt !== undefined)) await sleep(20);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, slot));
  watch.stop();
  return byNamespace(watch.rollouts);
}

const { setHeaderOptions, PatchStrategy } = await import('@kubernetes/client-node');
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function countOf(map: Map<string, number>, prefix: string): number {
  return [...map].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);
}

async function operatorMetric(operator: OperatorProcess, name: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await operator.metrics()).split('\n')) {
    if (!line.startsWith(name)) continue;
    const [series, value] = [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))];
    out.set(series, value);
  }
  return out;
}

/** Pass-duration quantiles (upper bucket bounds, ms) from the operator's reconcile histogram, all results. */
function passQuantiles(buckets: Map<string, number>): { n: number; p50: number | undefined; p90: number | undefined; p99: number | undefined } {
  const byBound = new Map<number, number>();
  for (const [series, count] of buckets) {
    const le = /le="([^"]+)"/.exec(series)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le) * 1000;
    byBound.set(bound, (byBound.get(bound) ?? 0) + count);
  }
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  const n = byBound.get(Infinity) ?? 0;
  const at = (q: number): number | undefined => bounds.find((b) => (byBound.get(b) ?? 0) >= q * n);
  return { n, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

async function bench(): Promise<number> {
  const kube = await connect();
  const total = NAMESPACES * PER_NS;
  log(`mesh: ${NAMESPACES} namespaces x ${PER_NS} Deployments = ${total} bench workloads (+ the sample mesh); ${CONCURRENCY} namespaces at a time`);
  await deleteAllUpgrades(kube);
  await cleanBenchNamespaces(kube);
  await resetMesh(kube);
  await installOperatorManifests(kube);
  await addNodes(kube, total + 100);
  const setupStart = Date.now();
  await createBenchMesh(kube);
  log(`bench workloads ready on the old revision in ${Math.round((Date.now() - setupStart) / 1000)} s`);

  const watch = new RolloutWatch((d) => d.spec?.template.metadata?.annotations?.[RESTARTED_FOR_ANNOTATION]);
  await watch.start(kube);
  const before = await apiserverRequests(kube);
  const patchLatencyBefore = await apiserverPatchLatency(kube);
  const nodeArgs = values['node-args'] === '' ? [] : values['node-args'].split(' ');
  const operatorEnv = Object.fromEntries(values['operator-env'].split(' ').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const operator = new OperatorProcess(kube, { kubeconfig: kube.info.kubeconfigPath, identity: 'bench', ...(values.entry === undefined ? {} : { entry: values.entry }), nodeArgs, env: operatorEnv, extraArgs: [`--log-level=${values['log-level']}`] });
  operator.start();
  await sleep(500);
  const sampler = new ProcessSampler();
  const pid = operator.pid;
  if (pid === undefined) throw new Error('the operator did not start');
  sampler.start(pid);
  const machine = new MachineCpu();
  machine.start(() => operator.pid);
  await sleep(5000);
  const idleRssKb = sampler.lastRssKb;
  const idleSplit = sampler.last;
  const idleCpu = sampler.cpuSeconds;

  const spec = sampleSpec(kube, {
    // The sample mesh's namespaces get a wave of their own, so that the measured wave holds only bench namespaces.
    rollout: { waves: [{ name: 'canary', namespaces: [benchNamespace(0)] }, { name: 'sample', namespaces: [...APP_NAMESPACES] }, { name: 'rest', maxConcurrentNamespaces: CONCURRENCY }], workloadTimeout: '10m' },
    soak: { duration: values.soak, builtin: { notReadyFor: '0s' } },
    uninstall: { gracePeriod: '5s' },
  });
  // Phase changes through a watch, not polling: a 100 ms poll cost this process (and the API server) more CPU
  // than the floor's whole run and delayed the rollout watch's timestamps behind it.
  const statusSeen: { phase: string; at: number }[] = [];
  const phaseWatch = new KeptWatch('IstioUpgrade', `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`, { fieldSelector: 'metadata.name=bench' }, '', (o) => {
    const u = o as LiveUpgrade;
    const phase = `${u.status?.phase ?? 'Pending'}/${u.status?.currentWave ?? ''}`;
    if (statusSeen.at(-1)?.phase !== phase) statusSeen.push({ phase, at: Date.now() });
  });
  await phaseWatch.start(kube);
  const started = Date.now();
  await createUpgrade(kube, 'bench', spec);
  // The V8 heap, scraped from the operator's own default metrics: how much of the RSS is live data.
  const heap = { usedPeakMb: 0, totalPeakMb: 0 };
  // The operator's event loop: its longest delay between two scrapes (prom-client resets it on every scrape), and
  // when it passed 50 ms. A stall here delays every answer the operator reads, so its refills and PATCH times too.
  const loopStalls: { atSeconds: number; lagMaxMs: number }[] = [];
  const loopLagMaxMs: number[] = [];
  let lastMetrics = '';
  // When each informer listed or watched again (from its counters): a relist reads every object from etcd.
  const informerCounts = new Map<string, number>();
  const informerActivity: { atSeconds: number; informer: string; request: string }[] = [];
  const scrape = setInterval(() => {
    operator
      .metrics()
      .then((text) => {
        lastMetrics = text;
        const raw = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
        const value = (name: string): number => raw(name) / 1024 / 1024;
        heap.usedPeakMb = Math.max(heap.usedPeakMb, value('istio_upgrade_operator_nodejs_heap_size_used_bytes'));
        heap.totalPeakMb = Math.max(heap.totalPeakMb, value('istio_upgrade_operator_nodejs_heap_size_total_bytes'));
        const lagMaxMs = raw('istio_upgrade_operator_nodejs_eventloop_lag_max_seconds') * 1000;
        loopLagMaxMs.push(lagMaxMs);
        const atSeconds = Math.round((Date.now() - started) / 100) / 10;
        if (lagMaxMs > 50) loopStalls.push({ atSeconds, lagMaxMs: Math.round(lagMaxMs) });
        for (const request of ['lists', 'watches']) {
          for (const { labels, value } of samplesOf(text, `istio_upgrade_informer_${request}_total`)) {
            const key = `${request} ${labels.get('informer') ?? ''}`;
            if (informerCounts.has(key) && value > (informerCounts.get(key) ?? 0)) informerActivity.push({ atSeconds, informer: labels.get('informer') ?? '', request });
            informerCounts.set(key, value);
          }
        }
      })
      .catch(() => undefined);
  }, 2000);
  const done = await waitForPhase(kube, 'bench', ['Succeeded', 'Failed', 'RolledBack'], 4 * 60 * 60_000);
  phaseWatch.stop();
  clearInterval(scrape);
  const wall = Date.now() - started;
  await waitFor('every bench rollout seen complete', () => Promise.resolve(watch.done(total) ? true : undefined), 120_000, 500);
  watch.stop();
  const after = await apiserverRequests(kube);
  const patchLatencyAfter = await apiserverPatchLatency(kube);
  const reconciles = await operatorMetric(operator, 'istio_upgrade_reconcile_total');
  const actions = await operatorMetric(operator, 'istio_upgrade_actions_total');
  const passDurationMs = passQuantiles(await operatorMetric(operator, 'istio_upgrade_reconcile_duration_seconds_bucket'));
  const endRssKb = sampler.lastRssKb;
  const cpuSeconds = sampler.cpuSeconds;
  // Sampled until the process has exited: its shutdown (informers stopped, restarts drained) counts in the peak.
  await operator.stop();
  sampler.stop();
  log(`operator: ${done.status?.phase ?? '?'} in ${Math.round(wall / 1000)} s`);
  if (done.status?.phase !== 'Succeeded') {
    log(JSON.stringify(done.status?.failure));
    return 1;
  }

  const operated = byNamespace(watch.rollouts);
  const restNamespaces = [...operated.keys()].filter((n) => n !== benchNamespace(0)).sort((a, b) => (operated.get(a)?.start ?? 0) - (operated.get(b)?.start ?? 0));
  const rest = new Map(restNamespaces.map((n) => [n, operated.get(n) ?? { start: 0, end: 0 }]));
  log(`floor: the same ${restNamespaces.length} namespaces restarted directly, ${CONCURRENCY} at a time...`);
  const floor = values['skip-floor'] ? new Map<string, { start: number; end: number }>() : await floorRun(kube, restNamespaces);
  machine.stop();
  const patchLatencyAfterFloor = await apiserverPatchLatency(kube);

  const deltas = new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]).filter(([, v]) => (v as number) > 0) as [string, number][]);
  const passes = [...reconciles.values()].reduce((a, b) => a + b, 0);
  const statusWrites = countOf(deltas, 'PATCH istioupgrades/status');
  const deploymentPatches = countOf(deltas, 'PATCH deployments');
  const waveEnd = statusSeen.find((s) => s.phase === 'Soaking/rest');
  const restEnd = Math.max(...[...rest.values()].map((n) => n.end));
  const result = {
    label: values.label,
    measuredAt: new Date().toISOString(),
    node: process.version,
    machine: { cpu: cpus()[0]?.model, cores: cpus().length },
    mesh: { namespaces: NAMESPACES, perNamespace: PER_NS, workloads: total, concurrency: CONCURRENCY, soak: values.soak },
    operator: { entry: values.entry ?? 'src/main.ts', nodeArgs, env: operatorEnv, kcmQps: process.env.IUO_KCM_QPS ?? 'default' },
    wallSeconds: wall / 1000,
    restWave: { operatorSeconds: span(rest) / 1000, floorSeconds: span(floor) / 1000, ratio: span(rest) / span(floor) },
    rss: {
      idleMb: idleRssKb / 1024,
      peakMb: sampler.peakRssKb / 1024,
      endMb: endRssKb / 1024,
      heapUsedPeakMb: heap.usedPeakMb,
      heapTotalPeakMb: heap.totalPeakMb,
      idle: { anonMb: idleSplit.anonKb / 1024, fileMb: idleSplit.fileKb / 1024 },
      atPeak: { anonMb: sampler.atPeak.anonKb / 1024, fileMb: sampler.atPeak.fileKb / 1024 },
    },
    cpu: { seconds: cpuSeconds, idleSeconds: idleCpu, passes, msPerPass: passes === 0 ? undefined : (cpuSeconds * 1000) / passes, passesPerWorkload: passes / total },
    // Wall time of a pass (actions and writes included), as bucket upper bounds.
    passDurationMs,
    eventLoop: { lagMaxPerScrapeMs: summary(loopLagMaxMs.map(Math.round)), stalls: loopStalls, gcPauses: gcPauses(lastMetrics) },
    // Lists and watches the informers started during the upgrade (scraped every 2 s), and the totals at its end.
    informers: { during: informerActivity, totals: Object.fromEntries(informerCounts) },
    writes: { byResource: Object.fromEntries([...deltas].sort((a, b) => b[1] - a[1])), operatorPerWorkload: (deploymentPatches + statusWrites) / total, deploymentPatches, statusWrites },
    actions: Object.fromEntries(actions),
    // Per namespace, first restart to last rollout complete: how long a slot is held, operator against floor.
    namespaceRolloutMs: { operator: summary(durations(rest)), floor: summary(durations(floor)) },
    // The machine during each run's rest wave: busy cores (of cpus().length) and CPU seconds per process group.
    cpuDuring: { restWave: windowOf(machine, rest), floor: windowOf(machine, floor) },
    refillMs: { operator: summary(refillLatencies(rest, CONCURRENCY)), floor: summary(refillLatencies(floor, CONCURRENCY)), operatorSamples: refillLatencies(rest, CONCURRENCY) },
    // Slowest first; empty when the operator ran below --log-level=info.
    refillBreakdown: (() => {
      const samples = refillBreakdown(rest, CONCURRENCY, firstRestarts(operator.log()));
      // When each of the slowest happened (s since the upgrade was created): together or spread out.
      const slowest = samples.slice(0, 10).map(({ freedAt, ...parts }) => ({ atSeconds: Math.round((freedAt - started) / 100) / 10, ...parts }));
      return { reactionMs: summary(samples.map((b) => b.reactionMs)), apiMs: summary(samples.map((b) => b.apiMs)), seenMs: summary(samples.map((b) => b.seenMs)), slowest };
    })(),
    // The API server's own times for Deployment PATCHes (whole, without queues, etcd's), operator's run and floor's.
    apiserverDeploymentPatchMs: { operator: patchLatencyBetween(patchLatencyBefore, patchLatencyAfter), floor: patchLatencyBetween(patchLatencyAfter, patchLatencyAfterFloor) },
    waveEndToSoakMs: waveEnd === undefined ? undefined : waveEnd.at - restEnd,
    phases: statusSeen.map((s) => ({ phase: s.phase, atSeconds: (s.at - started) / 1000 })),
  };
  const dir = new URL('results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`cluster-${NAMESPACES}x${PER_NS}-c${CONCURRENCY}${values.label === '' ? '' : `-${values.label}`}.json`, dir);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`rest wave ${result.restWave.operatorSeconds.toFixed(1)} s vs floor ${result.restWave.floorSeconds.toFixed(1)} s (x${result.restWave.ratio.toFixed(3)}); RSS idle ${result.rss.idleMb.toFixed(0)} MB peak ${result.rss.peakMb.toFixed(0)} MB; CPU ${cpuSeconds.toFixed(1)} s, ${passes} passes, ${(result.cpu.msPerPass ?? 0).toFixed(1)} ms/pass (wall p50/p99 <= ${passDurationMs.p50 ?? '-'}/${passDurationMs.p99 ?? '-'} ms); writes/workload ${result.writes.operatorPerWorkload.toFixed(2)}; refill p50/p99 ${result.refillMs.operator.median ?? '-'}/${result.refillMs.operator.p99 ?? '-'} ms (operator reaction p50/p99 ${result.refillBreakdown.reactionMs.median ?? '-'}/${result.refillBreakdown.reactionMs.p99 ?? '-'} ms, PATCH answer ${result.refillBreakdown.apiMs.median ?? '-'}/${result.refillBreakdown.apiMs.p99 ?? '-'} ms)`);
  for (const [name, w] of Object.entries(result.cpuDuring)) {
    if (w !== undefined) log(`${name}: ${w.seconds.toFixed(1)} s, ${w.busyCores.toFixed(2)} of ${cpus().length} cores busy; CPU s ${Object.entries(w.cpuSeconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  }
  log(`written ${fileURLToPath(file)}`);
  await cleanBenchNamespaces(kube);
  await kubectl(kube, ['delete', 'node', '-l', `${BENCH_NODE_LABEL}=true`, '--wait=false']);
  return 0;
}

const netns = clusterInfo().netns;
if (insideNetns(netns)) {
  process.exit(await bench());
} else {
  const cluster = await ensureClusterUp({ log: (line) => { console.error(`[cluster] ${line}`); } });
  const result = spawnSync('ip', ['netns', 'exec', cluster.netns, 'env', ...Object.entries(cluster.env).map(([k, v]) => `${k}=${v}`), process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
