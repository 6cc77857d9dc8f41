// Launcher of the hermetic test cluster (DESIGN.md §5, issue 3 items 2 and 5). Used by the CLI (main.ts:
// `npm run cluster -- up|down|status|env|exec|check`) and by the test suite (ensureClusterUp, clusterInfo, ...).
//
// Everything runs inside the network namespace `iuo-<cluster>` that this module creates, which has no link and
// no route to the outside (see README.md): etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok (started by `kwokctl --runtime binary` with the binaries built by hack/build/build-binaries.sh),
// Prometheus (Debian package, our own config and data dir), the test exporter and the node agent
// (hack/agent/main.ts, when present).
import { spawn, spawnSync, type SpawnSyncReturns, type StdioOptions } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import yaml from 'js-yaml';

// ---- fixed address plan (the node agent relies on it) ---------------------------------------------------------
export const NODE_IP = '10.250.0.1';
export const SERVICE_CIDR = '10.96.0.0/16';
export const POD_CIDR = '10.244.0.0/16';
export const APISERVER_PORT = 6443;
export const PROMETHEUS_ADDRESS = '127.0.0.1:9090';
export const EXPORTER_ADDRESS = '127.0.0.1:9400';
/** Where Prometheus expects the operator under test to serve /metrics (a down target until it runs). */
export const OPERATOR_METRICS_ADDRESS = '127.0.0.1:9464';
const LINK = 'iuo0';
const KWOK_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok-controller'];
const DAEMONS = ['exporter', 'prometheus', 'agent'] as const;
type Daemon = (typeof DAEMONS)[number];

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const HERE = import.meta.dirname;

export interface ClusterVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
  istioOld: string;
  istioNew: string;
  istioOldRevision: string;
  istioNewRevision: string;
  istioHub: string;
  /** Every KEY=value of hack/versions.env. */
  all: Record<string, string>;
}

export interface ClusterInfo {
  name: string;
  /** Network namespace every cluster process runs in (`ip netns exec <netns> ...`). */
  netns: string;
  clusterDir: string;
  kubeconfigPath: string;
  apiServerUrl: string;
  nodeIp: string;
  serviceCidr: string;
  podCidr: string;
  nodeNames: string[];
  prometheusUrl: string;
  exporterUrl: string;
  operatorMetricsAddress: string;
  /** Directory put first on PATH by exec/runInNetns: kubectl, kwokctl, istioctl (new), istioctl-<v>, pilot-discovery-<v>. */
  binDir: string;
  binDirs: { k8s: string; etcd: string; kwok: string; istioOld: string; istioNew: string };
  logsDir: string;
  versions: ClusterVersions;
  /** Environment for processes of the cluster (KUBECONFIG, PATH, IUO_* and the URLs). */
  env: Record<string, string>;
}

export interface Options {
  /** Print progress lines (the CLI passes console.error). */
  log?: (line: string) => void;
  /** Show build output (hack/build/build-binaries.sh) on stderr instead of only in logs/build.log. */
  verboseBuild?: boolean;
}

// ---- paths and configuration ----------------------------------------------------------------------------------
export function cacheRoot(): string {
  return process.env['IUO_CACHE'] ?? join(homedir(), '.cache', 'istio-upgrade-operator');
}

export function clusterName(): string {
  const name = process.env['IUO_CLUSTER'] ?? 'iuo';
  if (!/^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/.test(name)) {
    throw new Error(`IUO_CLUSTER must be a short DNS label (got ${JSON.stringify(name)})`);
  }
  return name;
}

export function readVersions(file = join(REPO_ROOT, 'hack', 'versions.env')): ClusterVersions {
  const all: Record<string, string> = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) all[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const get = (k: string): string => {
    const v = all[k];
    if (v === undefined) throw new Error(`${file}: missing ${k}`);
    return v;
  };
  return {
    kubernetes: get('K8S_VERSION'),
    etcd: get('ETCD_VERSION'),
    kwok: get('KWOK_VERSION'),
    istioOld: get('ISTIO_OLD_VERSION'),
    istioNew: get('ISTIO_NEW_VERSION'),
    istioOldRevision: get('ISTIO_OLD_REVISION'),
    istioNewRevision: get('ISTIO_NEW_REVISION'),
    istioHub: get('ISTIO_HUB'),
    all,
  };
}

interface Paths {
  clusterDir: string;
  kwokWorkdir: string;
  kwokClusterDir: string;
  kwokConfig: string;
  kubeconfig: string;
  logsDir: string;
  pidsDir: string;
  prometheusDir: string;
  binDir: string;
  lockDir: string;
}

function paths(name = clusterName()): Paths {
  const clusterDir = process.env['IUO_CLUSTER_DIR'] ?? join(cacheRoot(), 'clusters', name);
  const kwokWorkdir = join(clusterDir, 'kwok');
  return {
    clusterDir,
    kwokWorkdir,
    kwokClusterDir: join(kwokWorkdir, 'clusters', name),
    kwokConfig: join(clusterDir, 'kwokctl.yaml'),
    kubeconfig: join(clusterDir, 'kubeconfig'),
    logsDir: join(clusterDir, 'logs'),
    pidsDir: join(clusterDir, 'pids'),
    prometheusDir: join(clusterDir, 'prometheus'),
    binDir: join(clusterDir, 'bin'),
    lockDir: join(cacheRoot(), 'clusters', `.${name}.lock`),
  };
}

const nodeNames = (): string[] => {
  const n = Number(process.env['IUO_NODES'] ?? '3');
  return Array.from({ length: Number.isInteger(n) && n > 0 ? n : 3 }, (_, i) => `kwok-node-${i}`);
};

/** Everything a test needs to talk to the cluster; works whether or not the cluster is running. */
export function clusterInfo(): ClusterInfo {
  const name = clusterName();
  const p = paths(name);
  const versions = readVersions();
  const bin = join(cacheRoot(), 'bin');
  const binDirs = {
    k8s: join(bin, `k8s-${versions.kubernetes}`),
    etcd: join(bin, `etcd-${versions.etcd}`),
    kwok: join(bin, `kwok-${versions.kwok}`),
    istioOld: join(bin, `istio-${versions.istioOld}`),
    istioNew: join(bin, `istio-${versions.istioNew}`),
  };
  const netns = `iuo-${name}`;
  const prometheusUrl = `http://${PROMETHEUS_ADDRESS}`;
  const exporterUrl = `http://${EXPORTER_ADDRESS}`;
  const env: Record<string, string> = {
    KUBECONFIG: p.kubeconfig,
    IUO_CLUSTER: name,
    IUO_NETNS: netns,
    IUO_CLUSTER_DIR: p.clusterDir,
    IUO_CACHE: cacheRoot(),
    IUO_BIN_DIR: p.binDir,
    IUO_NODE_IP: NODE_IP,
    PROMETHEUS_URL: prometheusUrl,
    EXPORTER_URL: exporterUrl,
    PATH: [p.binDir, dirname(process.execPath), process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'].join(':'),
  };
  return {
    name,
    netns,
    clusterDir: p.clusterDir,
    kubeconfigPath: p.kubeconfig,
    apiServerUrl: `https://${NODE_IP}:${APISERVER_PORT}`,
    nodeIp: NODE_IP,
    serviceCidr: SERVICE_CIDR,
    podCidr: POD_CIDR,
    nodeNames: nodeNames(),
    prometheusUrl,
    exporterUrl,
    operatorMetricsAddress: OPERATOR_METRICS_ADDRESS,
    binDir: p.binDir,
    binDirs,
    logsDir: p.logsDir,
    versions,
    env,
  };
}

// ---- small process helpers -------------------------------------------------------------------------------------
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runSync(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; stdio?: StdioOptions; cwd?: string } = {}): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: opts.env ?? process.env,
    input: opts.input,
    stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'],
    cwd: opts.cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function mustSync(cmd: string, args: string[], opts: Parameters<typeof runSync>[2] = {}): string {
  const r = runSync(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code ?? r.signal ?? '?'}): ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL; only the given pid. */
async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid) || isZombie(pid)) return;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && isAlive(pid) && !isZombie(pid); i++) await sleep(100);
}

function netnsExists(netns: string): boolean {
  return existsSync(`/run/netns/${netns}`);
}

/** True when the calling process already runs inside the cluster's network namespace. */
export function insideNetns(netns = clusterInfo().netns): boolean {
  try {
    const self = statSync('/proc/self/ns/net');
    const target = statSync(`/run/netns/${netns}`);
    return self.ino === target.ino && self.dev === target.dev;
  } catch {
    return false;
  }
}

/** This process and its ancestors: never killed by `down`, even when it runs inside the namespace (tests). */
function selfAndAncestors(): Set<number> {
  const out = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return out;
}

function netnsPids(netns: string): number[] {
  if (!netnsExists(netns)) return [];
  const r = runSync('ip', ['netns', 'pids', netns]);
  const keep = selfAndAncestors();
  return r.stdout
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
    .filter((pid) => !keep.has(pid));
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // kwokctl reads every KWOK_* variable as an option: never let the caller's leak in.
    if (!k.startsWith('KWOK_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Runs `cmd args` inside the cluster's network namespace with KUBECONFIG set and the cluster's bin dir first on
 * PATH. Resolves with the exit code and the captured output (or inherits stdio with `inherit: true`).
 */
export function runInNetns(
  cmd: string,
  args: string[] = [],
  opts: { input?: string; inherit?: boolean; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const info = clusterInfo();
  if (!netnsExists(info.netns)) return Promise.reject(new Error(`network namespace ${info.netns} does not exist (run: npm run cluster -- up)`));
  return new Promise((resolvePromise, reject) => {
    const child = spawn('ip', ['netns', 'exec', info.netns, cmd, ...args], {
      env: cleanEnv({ ...info.env, ...opts.env }),
      stdio: opts.inherit ? 'inherit' : ['pipe', 'pipe', 'pipe'],
      cwd: opts.cwd ?? process.cwd(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (child.stdin) child.stdin.end(opts.input ?? '');
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

function inNetnsSync(netns: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): RunResult {
  return runSync('ip', ['netns', 'exec', netns, cmd, ...args], opts);
}

// ---- lock (several test files may call ensureClusterUp at once) -----------------------------------------------
async function withLock<T>(fn: () => Promise<T>, log: (l: string) => void): Promise<T> {
  const { lockDir } = paths();
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 20 * 60_000;
  let said = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // being written right now, or left empty by a crash: judged by age below
      }
      const age = Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if ((Number.isInteger(holder) && !isAlive(holder)) || (!Number.isInteger(holder) && age > 10_000)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the cluster lock ${lockDir} (held by pid ${holder})`);
      if (!said) log(`waiting for another launcher (pid ${holder}) to finish...`);
      said = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

// ---- health ----------------------------------------------------------------------------------------------------
function kubectl(info: ClusterInfo, args: string[], input?: string): RunResult {
  return inNetnsSync(info.netns, join(info.binDirs.k8s, 'kubectl'), ['--kubeconfig', info.kubeconfigPath, ...args], {
    env: cleanEnv(info.env),
    ...(input === undefined ? {} : { input }),
  });
}

function curl(info: ClusterInfo, url: string): RunResult {
  return inNetnsSync(info.netns, 'curl', ['-fsS', '--max-time', '3', url]);
}

function apiReady(info: ClusterInfo): boolean {
  if (!netnsExists(info.netns) || !existsSync(info.kubeconfigPath)) return false;
  const r = kubectl(info, ['get', '--raw', '/readyz', '--request-timeout=5s']);
  return r.code === 0 && r.stdout.trim() === 'ok';
}

function readPid(daemon: Daemon): number | undefined {
  try {
    const pid = Number(readFileSync(join(paths().pidsDir, `${daemon}.pid`), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of a daemon if it still runs the command we started (guards against pid reuse). */
function daemonPid(daemon: Daemon): number | undefined {
  const pid = readPid(daemon);
  if (pid === undefined || !isAlive(pid) || isZombie(pid)) return undefined;
  const markers: Record<Daemon, string> = { exporter: 'exporter.ts', prometheus: 'prometheus', agent: 'main.ts' };
  return cmdline(pid).includes(markers[daemon]) ? pid : undefined;
}

function kwokComponentPids(): Record<string, number | undefined> {
  const dir = join(paths().kwokClusterDir, 'pids');
  const out: Record<string, number | undefined> = {};
  for (const c of KWOK_COMPONENTS) {
    try {
      const pid = Number(readFileSync(join(dir, `${c}.pid`), 'utf8').trim());
      out[c] = isAlive(pid) && !isZombie(pid) ? pid : undefined;
    } catch {
      out[c] = undefined;
    }
  }
  return out;
}

export interface ComponentStatus {
  name: string;
  running: boolean;
  pid?: number;
  detail?: string;
}

export function clusterStatus(): { up: boolean; components: ComponentStatus[] } {
  const info = clusterInfo();
  const components: ComponentStatus[] = [];
  const ns = netnsExists(info.netns);
  components.push({ name: `netns ${info.netns}`, running: ns, detail: ns ? `${NODE_IP} on ${LINK}, local ${SERVICE_CIDR} ${POD_CIDR}` : 'absent' });
  for (const [name, pid] of Object.entries(kwokComponentPids())) {
    components.push({ name, running: pid !== undefined, ...(pid === undefined ? {} : { pid }) });
  }
  const ready = ns && apiReady(info);
  components.push({ name: 'apiserver /readyz', running: ready, detail: info.apiServerUrl });
  if (ready) {
    const r = kubectl(info, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    const readyNodes = lines.filter((l) => l.endsWith('=True')).length;
    components.push({ name: 'nodes Ready', running: readyNodes > 0 && readyNodes === lines.length, detail: `${readyNodes}/${lines.length}` });
  }
  for (const d of DAEMONS) {
    const pid = daemonPid(d);
    let detail: string | undefined;
    if (d === 'agent' && pid === undefined && !existsSync(join(REPO_ROOT, 'hack', 'agent', 'main.ts'))) detail = 'hack/agent/main.ts not present';
    if (d === 'prometheus' && pid !== undefined) detail = curl(info, `${info.prometheusUrl}/-/ready`).code === 0 ? `${info.prometheusUrl} ready` : 'not ready';
    if (d === 'exporter' && pid !== undefined) detail = curl(info, `${info.exporterUrl}/healthz`).code === 0 ? `${info.exporterUrl} ok` : 'not answering';
    components.push({ name: d, running: pid !== undefined, ...(pid === undefined ? {} : { pid }), ...(detail === undefined ? {} : { detail }) });
  }
  const up = components.every((c) => c.running || (c.name === 'agent' && c.detail !== undefined));
  return { up, components };
}

// ---- up ----------------------------------------------------------------------------------------------------------
async function waitFor(what: string, fn: () => boolean, timeoutMs: number, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

function buildBinaries(info: ClusterInfo, opts: Options, log: (l: string) => void): void {
  if (process.env['IUO_SKIP_BUILD'] === '1') {
    log('IUO_SKIP_BUILD=1: not running hack/build/build-binaries.sh');
  } else {
    const logFile = join(info.logsDir, 'build.log');
    const fd = openSync(logFile, 'w');
    try {
      const r = spawnSync('bash', [join(REPO_ROOT, 'hack', 'build', 'build-binaries.sh')], {
        stdio: opts.verboseBuild ? ['ignore', 2, 2] : ['ignore', fd, fd],
        env: process.env,
      });
      if (r.status !== 0) throw new Error(`hack/build/build-binaries.sh failed (exit ${r.status ?? r.signal ?? '?'}); see ${logFile}`);
    } finally {
      closeSync(fd);
    }
  }
  for (const [what, dir, files, required] of [
    ['kubernetes', info.binDirs.k8s, ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'], true],
    ['etcd', info.binDirs.etcd, ['etcd'], true],
    ['kwok', info.binDirs.kwok, ['kwok', 'kwokctl'], true],
    ['istio old', info.binDirs.istioOld, ['istioctl', 'pilot-discovery'], false],
    ['istio new', info.binDirs.istioNew, ['istioctl', 'pilot-discovery'], false],
  ] as const) {
    for (const f of files) {
      if (existsSync(join(dir, f))) continue;
      if (required) throw new Error(`${what} binary ${join(dir, f)} is missing (hack/build/build-binaries.sh)`);
      log(`warning: ${what} binary ${join(dir, f)} is missing`);
    }
  }
}

/** The cluster's PATH directory: symlinks to the pinned binaries under stable names. */
function linkBinDir(info: ClusterInfo): void {
  mkdirSync(info.binDir, { recursive: true });
  const { istioOld, istioNew } = info.versions;
  const links: [string, string][] = [
    ['kubectl', join(info.binDirs.k8s, 'kubectl')],
    ['kwokctl', join(info.binDirs.kwok, 'kwokctl')],
    ['etcd', join(info.binDirs.etcd, 'etcd')],
    ['istioctl', join(info.binDirs.istioNew, 'istioctl')],
    [`istioctl-${istioNew}`, join(info.binDirs.istioNew, 'istioctl')],
    [`istioctl-${istioOld}`, join(info.binDirs.istioOld, 'istioctl')],
    [`pilot-discovery-${istioNew}`, join(info.binDirs.istioNew, 'pilot-discovery')],
    [`pilot-discovery-${istioOld}`, join(info.binDirs.istioOld, 'pilot-discovery')],
  ];
  for (const [name, target] of links) {
    const at = join(info.binDir, name);
    let current: string | undefined;
    try {
      current = readlinkSync(at);
    } catch {
      current = undefined;
    }
    if (current === target) continue;
    rmSync(at, { force: true });
    symlinkSync(target, at);
  }
}

const PROMETHEUS_BIN = '/usr/bin/prometheus';

function prometheusPidsOutside(netns: string): number[] {
  const inNs = new Set(netnsPids(netns));
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      continue;
    }
    if (exe === PROMETHEUS_BIN && !inNs.has(pid)) out.push(pid);
  }
  return out;
}

/** Installs Debian's prometheus if missing; makes sure the package's own service is not running. */
async function ensurePrometheusInstalled(info: ClusterInfo, log: (l: string) => void): Promise<void> {
  if (existsSync(PROMETHEUS_BIN)) return;
  if (insideNetns(info.netns)) throw new Error(`${PROMETHEUS_BIN} is missing and this process runs inside ${info.netns} (no network): run \`npm run cluster -- up\` from the host once`);
  log('installing prometheus from Debian (apt-get)...');
  const before = new Set(prometheusPidsOutside(info.netns));
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => runSync('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus'], { env });
  let r = install();
  if (r.code !== 0) {
    mustSync('apt-get', ['update'], { env });
    r = install();
  }
  if (r.code !== 0) throw new Error(`apt-get install prometheus failed: ${r.stderr.trim()}`);
  // The package's service must not be what we use: disable it, and stop it if its postinst started one.
  runSync('systemctl', ['disable', 'prometheus.service']);
  runSync('systemctl', ['stop', 'prometheus.service']);
  for (const pid of prometheusPidsOutside(info.netns)) {
    if (!before.has(pid)) {
      log(`stopping the Debian prometheus service process (pid ${pid}) started by the package install`);
      await stopPid(pid);
    }
  }
}

function createNetns(info: ClusterInfo, log: (l: string) => void): void {
  const ns = info.netns;
  log(`creating network namespace ${ns} (${NODE_IP} on ${LINK}; local routes ${SERVICE_CIDR} ${POD_CIDR}; no route out)`);
  mustSync('ip', ['netns', 'add', ns]);
  const ipn = (...args: string[]) => mustSync('ip', ['-n', ns, ...args]);
  ipn('link', 'set', 'lo', 'up');
  // A dummy link when the kernel has it, else a bridge without ports: either way a link that leads nowhere.
  if (runSync('ip', ['-n', ns, 'link', 'add', LINK, 'type', 'dummy']).code !== 0) ipn('link', 'add', LINK, 'type', 'bridge');
  ipn('link', 'set', LINK, 'addrgenmode', 'none'); // no IPv6 link-local address
  mustSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${LINK}.disable_ipv6=1`]); // nor any IPv6 route on it
  ipn('addr', 'add', `${NODE_IP}/32`, 'dev', LINK);
  ipn('link', 'set', LINK, 'up');
  ipn('route', 'add', 'local', SERVICE_CIDR, 'dev', 'lo');
  ipn('route', 'add', 'local', POD_CIDR, 'dev', 'lo');
  // The network rule, checked rather than assumed: the main routing tables must be empty (only local routes).
  const v4 = mustSync('ip', ['-n', ns, '-4', 'route', 'show', 'table', 'main']).trim();
  const v6 = mustSync('ip', ['-n', ns, '-6', 'route', 'show', 'table', 'main']).trim();
  if (v4 !== '' || v6 !== '') throw new Error(`namespace ${ns} has non-local routes:\n${v4}\n${v6}`);
  const links = mustSync('ip', ['-n', ns, '-o', 'link', 'show']).trim().split('\n');
  if (links.length !== 2) throw new Error(`namespace ${ns} must hold only lo and ${LINK}:\n${links.join('\n')}`);
}

function runNetcheck(info: ClusterInfo): RunResult {
  return inNetnsSync(info.netns, process.execPath, [join(HERE, 'netcheck.ts')]);
}

function kwokctlConfig(info: ClusterInfo, p: Paths): string {
  const v = info.versions;
  const k8s = info.binDirs.k8s;
  const missing = join(p.kwokWorkdir, 'not-provided'); // never downloaded: kwokctl fails locally instead
  const config = {
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokctlConfiguration',
    options: {
      runtime: 'binary',
      kubeVersion: v.kubernetes,
      etcdVersion: v.etcd.replace(/^v/, ''),
      kwokVersion: v.kwok,
      bindAddress: '0.0.0.0',
      securePort: true,
      kubeAuthorization: true,
      kubeAdmission: true,
      kubeApiserverPort: APISERVER_PORT,
      kubeApiserverCertSANs: [NODE_IP, '10.96.0.1', '127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      etcdPort: 2379,
      etcdPeerPort: 2380,
      kubeControllerManagerPort: 10257,
      kubeSchedulerPort: 10259,
      kwokControllerPort: 10247,
      cacheDir: join(p.kwokWorkdir, 'cache'),
      quietPull: true,
      kubeApiserverBinary: join(k8s, 'kube-apiserver'),
      kubeControllerManagerBinary: join(k8s, 'kube-controller-manager'),
      kubeSchedulerBinary: join(k8s, 'kube-scheduler'),
      kubectlBinary: join(k8s, 'kubectl'),
      etcdBinary: join(info.binDirs.etcd, 'etcd'),
      kwokControllerBinary: join(info.binDirs.kwok, 'kwok'),
      etcdctlBinary: missing,
      etcdutlBinary: missing,
      kectlBinary: missing,
      prometheusBinary: missing,
      jaegerBinary: missing,
      metricsServerBinary: missing,
      kindBinary: missing,
    },
    componentsPatches: [
      {
        name: 'kube-apiserver',
        extraArgs: [
          { key: 'service-cluster-ip-range', value: SERVICE_CIDR },
          { key: 'advertise-address', value: NODE_IP },
          { key: 'service-node-port-range', value: '30000-32767' },
        ],
      },
      {
        name: 'kube-controller-manager',
        extraArgs: [
          { key: 'service-cluster-ip-range', value: SERVICE_CIDR },
          { key: 'cluster-name', value: info.name },
          // --root-ca-file and --service-account-private-key-file come from kwokctl (kube-authorization on).
        ],
      },
      {
        name: 'kwok-controller',
        extraArgs: [
          { key: 'node-ip', value: NODE_IP },
          { key: 'cidr', value: POD_CIDR },
        ],
      },
    ],
  };
  return `# Generated by hack/cluster/cluster.ts on every \`up\`; do not edit.\n${yaml.dump(config, { lineWidth: 200 })}---\n${readFileSync(join(HERE, 'kwok-stages.yaml'), 'utf8')}`;
}

interface KubeconfigDoc {
  clusters: { name: string; cluster: Record<string, string> }[];
  users: { name: string; user: Record<string, string> }[];
  contexts: { name: string; context: Record<string, string> }[];
  'current-context'?: string;
}

/** A self-contained kubeconfig (inline certificates) pointing at the node address of the API server. */
function writeKubeconfig(info: ClusterInfo, p: Paths): void {
  const src = join(p.kwokClusterDir, 'kubeconfig.yaml');
  const doc = yaml.load(readFileSync(src, 'utf8')) as KubeconfigDoc;
  const inline = (obj: Record<string, string>, fileKey: string, dataKey: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (k === fileKey) out[dataKey] = readFileSync(v).toString('base64');
      else out[k] = v;
    }
    return out;
  };
  const srcCluster = doc.clusters[0]?.cluster;
  const srcUser = doc.users[0]?.user;
  if (srcCluster === undefined || srcUser === undefined) throw new Error(`${src}: unexpected kubeconfig`);
  const cluster = { ...inline(srcCluster, 'certificate-authority', 'certificate-authority-data'), server: info.apiServerUrl };
  const user = inline(inline(srcUser, 'client-certificate', 'client-certificate-data'), 'client-key', 'client-key-data');
  const out: KubeconfigDoc = {
    clusters: [{ name: info.name, cluster }],
    users: [{ name: `${info.name}-admin`, user }],
    contexts: [{ name: info.name, context: { cluster: info.name, user: `${info.name}-admin` } }],
    'current-context': info.name,
  };
  writeFileSync(p.kubeconfig, yaml.dump({ apiVersion: 'v1', kind: 'Config', preferences: {}, ...out }), { mode: 0o600 });
}

function nodeManifests(info: ClusterInfo): string {
  const docs = info.nodeNames.map((name) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': name,
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    spec: {},
    status: {
      allocatable: { cpu: '32', memory: '128Gi', pods: '110' },
      capacity: { cpu: '32', memory: '128Gi', pods: '110' },
      addresses: [
        { type: 'InternalIP', address: NODE_IP },
        { type: 'Hostname', address: name },
      ],
    },
  }));
  return docs.map((d) => yaml.dump(d)).join('---\n');
}

function prometheusConfig(): string {
  return `# Generated by hack/cluster/cluster.ts; Prometheus of the hermetic test cluster.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: iuo-exporter
    static_configs:
      - targets: ['${EXPORTER_ADDRESS}']
  - job_name: istio-upgrade-operator
    static_configs:
      - targets: ['${OPERATOR_METRICS_ADDRESS}']
`;
}

/** Starts a long-running process inside the namespace, detached, logging to logs/<name>.log, pid in pids/. */
function startDaemon(info: ClusterInfo, name: Daemon, cmd: string, args: string[], env: Record<string, string> = {}): number {
  const p = paths();
  const out = openSync(join(p.logsDir, `${name}.log`), 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', info.netns, cmd, ...args], {
      detached: true,
      stdio: ['ignore', out, out],
      env: cleanEnv({ ...info.env, ...env }),
      cwd: REPO_ROOT,
    });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
    child.unref();
    writeFileSync(join(p.pidsDir, `${name}.pid`), String(child.pid));
    return child.pid;
  } finally {
    closeSync(out);
  }
}

async function startAddons(info: ClusterInfo, log: (l: string) => void): Promise<void> {
  const p = paths();
  mkdirSync(p.pidsDir, { recursive: true });
  if (daemonPid('exporter') === undefined) {
    const pid = startDaemon(info, 'exporter', process.execPath, [join(HERE, 'exporter.ts')]);
    log(`exporter started (pid ${pid}) on ${info.exporterUrl}`);
  }
  if (daemonPid('prometheus') === undefined) {
    mkdirSync(join(p.prometheusDir, 'data'), { recursive: true });
    const cfg = join(p.prometheusDir, 'prometheus.yml');
    writeFileSync(cfg, prometheusConfig());
    const pid = startDaemon(info, 'prometheus', PROMETHEUS_BIN, [
      `--config.file=${cfg}`,
      `--storage.tsdb.path=${join(p.prometheusDir, 'data')}`,
      `--web.listen-address=${PROMETHEUS_ADDRESS}`,
      '--storage.tsdb.retention.time=6h',
      '--web.enable-lifecycle',
      '--web.enable-admin-api',
      '--log.level=warn',
    ]);
    log(`prometheus started (pid ${pid}) on ${info.prometheusUrl}`);
  }
  const agentMain = join(REPO_ROOT, 'hack', 'agent', 'main.ts');
  if (daemonPid('agent') === undefined && existsSync(agentMain)) {
    const pid = startDaemon(info, 'agent', process.execPath, [agentMain, '--kubeconfig', info.kubeconfigPath]);
    log(`node agent started (pid ${pid}), log ${join(info.logsDir, 'agent.log')}`);
  }
  await waitFor('the exporter to answer', () => curl(info, `${info.exporterUrl}/healthz`).code === 0, 30_000, 200);
  await waitFor('prometheus to be ready', () => curl(info, `${info.prometheusUrl}/-/ready`).code === 0, 60_000, 300);
  await waitFor(
    'prometheus to scrape the exporter',
    () => {
      const r = curl(info, `${info.prometheusUrl}/api/v1/query?query=up%7Bjob%3D%22iuo-exporter%22%7D`);
      return r.code === 0 && /"value":\[[^\]]*,"1"\]/.test(r.stdout);
    },
    30_000,
    300,
  );
}

function versionsFingerprint(info: ClusterInfo): string {
  const v = info.versions;
  return [v.kubernetes, v.etcd, v.kwok, v.istioOld, v.istioNew].join(' ');
}

/** The versions the running cluster was started with (see up.json), if known. */
function upVersions(): string | undefined {
  try {
    const rec = JSON.parse(readFileSync(join(paths().clusterDir, 'up.json'), 'utf8')) as { versions?: unknown };
    return typeof rec.versions === 'string' ? rec.versions : undefined;
  } catch {
    return undefined;
  }
}

async function upUnlocked(opts: Options): Promise<ClusterInfo> {
  const log = opts.log ?? (() => undefined);
  const info = clusterInfo();
  const p = paths();
  if (process.getuid?.() !== 0) throw new Error('the cluster launcher needs root (ip netns)');
  const started = Date.now();
  mkdirSync(p.logsDir, { recursive: true });
  mkdirSync(p.pidsDir, { recursive: true });

  log('building/checking pinned binaries (hack/build/build-binaries.sh)...');
  buildBinaries(info, opts, log);
  linkBinDir(info);
  await ensurePrometheusInstalled(info, log);

  createNetns(info, log);
  const check = runNetcheck(info);
  writeFileSync(join(p.logsDir, 'netcheck.log'), check.stdout + check.stderr);
  if (check.code !== 0) throw new Error(`network isolation check failed:\n${check.stdout}${check.stderr}`);

  mkdirSync(p.kwokWorkdir, { recursive: true });
  writeFileSync(p.kwokConfig, kwokctlConfig(info, p));
  log(`creating the cluster with kwokctl (kube-apiserver ${info.versions.kubernetes}, etcd ${info.versions.etcd}, kwok ${info.versions.kwok})...`);
  const kwokLog = openSync(join(p.logsDir, 'kwokctl.log'), 'w');
  try {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', info.netns, join(info.binDirs.kwok, 'kwokctl'), '--config', p.kwokConfig, 'create', 'cluster', '--name', info.name, '--kubeconfig=', '--wait=0s', '--timeout=5m'],
      { stdio: ['ignore', kwokLog, kwokLog], env: cleanEnv({ ...info.env, KWOK_WORKDIR: p.kwokWorkdir }) },
    );
    if (r.status !== 0) throw new Error(`kwokctl create cluster failed (exit ${r.status ?? r.signal ?? '?'}); see ${join(p.logsDir, 'kwokctl.log')} and ${join(p.kwokClusterDir, 'logs')}`);
  } finally {
    closeSync(kwokLog);
  }
  writeKubeconfig(info, p);
  await waitFor('kube-apiserver /readyz', () => apiReady(info), 120_000);

  log(`registering ${info.nodeNames.length} kwok nodes...`);
  const applied = kubectl(info, ['apply', '-f', '-'], nodeManifests(info));
  if (applied.code !== 0) throw new Error(`creating nodes failed: ${applied.stderr}`);
  await waitFor(
    'nodes to be Ready',
    () => kubectl(info, ['wait', '--for=condition=Ready', 'node', '--all', '--timeout=5s']).code === 0,
    90_000,
  );
  await waitFor('the default ServiceAccount', () => kubectl(info, ['get', 'serviceaccount', 'default', '-n', 'default']).code === 0, 60_000);

  await startAddons(info, log);
  const record = { startedAt: new Date(started).toISOString(), seconds: (Date.now() - started) / 1000, versions: versionsFingerprint(info) };
  writeFileSync(join(p.clusterDir, 'up.json'), JSON.stringify(record, null, 2));
  log(`cluster ${info.name} is up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return info;
}

async function downUnlocked(opts: Options): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const info = clusterInfo();
  const p = paths();
  for (const d of ['agent', 'prometheus', 'exporter'] as const) {
    const pid = daemonPid(d);
    if (pid !== undefined) {
      log(`stopping ${d} (pid ${pid})`);
      await stopPid(pid);
    }
  }
  const kwokctl = join(info.binDirs.kwok, 'kwokctl');
  if (existsSync(p.kwokClusterDir) && existsSync(kwokctl)) {
    log(`deleting kwok cluster ${info.name}`);
    const env = cleanEnv({ ...info.env, KWOK_WORKDIR: p.kwokWorkdir });
    // --kubeconfig: a file of our own that kwokctl may edit (it must not touch ~/.kube/config; '' is refused here).
    const args = ['delete', 'cluster', '--name', info.name, `--kubeconfig=${join(p.clusterDir, 'kwokctl-kubeconfig.yaml')}`];
    const r = netnsExists(info.netns) ? inNetnsSync(info.netns, kwokctl, args, { env }) : runSync(kwokctl, args, { env });
    if (r.code !== 0) log(`kwokctl delete cluster: exit ${r.code ?? r.signal ?? '?'}: ${r.stderr.trim()}`);
  }
  // kwokctl kills by its pid files; make sure nothing of it survives (e.g. after a crash of kwokctl itself).
  for (const pid of Object.values(kwokComponentPids())) if (pid !== undefined) await stopPid(pid);
  // Whatever else still runs in the namespace was started by this harness (agent children, tests, operator).
  const rest = netnsPids(info.netns).filter((pid) => isAlive(pid) && !isZombie(pid) && cmdline(pid) !== '');
  if (rest.length > 0) {
    log(`stopping ${rest.length} remaining process(es) in ${info.netns}: ${rest.map((pid) => `${pid} (${cmdline(pid).slice(0, 60)})`).join(', ')}`);
    await Promise.all(rest.map((pid) => stopPid(pid)));
  }
  if (netnsExists(info.netns)) {
    log(`deleting network namespace ${info.netns}`);
    mustSync('ip', ['netns', 'del', info.netns]);
  }
  for (const sub of ['kwok', 'prometheus', 'pids', 'kubeconfig', 'kwokctl.yaml', 'kwokctl-kubeconfig.yaml', 'up.json']) rmSync(join(p.clusterDir, sub), { recursive: true, force: true });
}

// ---- public API ------------------------------------------------------------------------------------------------
/** Brings the cluster up, or reuses it when it already runs (restarting exporter/Prometheus/agent if they died). */
export async function ensureClusterUp(opts: Options = {}): Promise<ClusterInfo> {
  const log = opts.log ?? (() => undefined);
  return withLock(async () => {
    const info = clusterInfo();
    if (apiReady(info)) {
      if (upVersions() === versionsFingerprint(info)) {
        await startAddons(info, log);
        return info;
      }
      log('the running cluster was built from other pinned versions (hack/versions.env): recreating it');
    }
    if (netnsExists(info.netns) || existsSync(paths().kwokClusterDir)) {
      log('found a stale cluster: tearing it down first');
      await downUnlocked(opts);
    }
    try {
      return await upUnlocked(opts);
    } catch (e) {
      log(`up failed: ${e instanceof Error ? e.message : String(e)}`);
      if (process.env['IUO_KEEP_FAILED'] !== '1') {
        log('tearing down the half-created cluster (set IUO_KEEP_FAILED=1 to keep it for inspection)');
        await downUnlocked(opts);
      }
      throw e;
    }
  }, log);
}

/** Stops every process of the cluster and deletes its network namespace. Idempotent. */
export async function clusterDown(opts: Options = {}): Promise<void> {
  await withLock(() => downUnlocked(opts), opts.log ?? (() => undefined));
}

/** Runs the network-isolation self-check inside the namespace (see netcheck.ts). */
export function checkIsolation(): RunResult & { routes: string; links: string } {
  const info = clusterInfo();
  if (!netnsExists(info.netns)) throw new Error(`network namespace ${info.netns} does not exist`);
  const routes = mustSync('ip', ['-n', info.netns, 'route', 'show', 'table', 'all']);
  const links = mustSync('ip', ['-n', info.netns, 'addr', 'show']);
  return { ...runNetcheck(info), routes, links };
}
