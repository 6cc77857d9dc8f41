// The cluster's network namespace `iuo-<cluster>`: creating it with no route out (the network rule in hack/cluster/README.md),
// checking that, and running commands inside it.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LINK, NODE_IP, POD_CIDR, SERVICE_CIDR, clusterInfo, type ClusterInfo } from './paths.ts';
import { cleanEnv, mustSync, runSync, selfAndAncestors, type RunResult } from './processes.ts';

const HERE = import.meta.dirname;

export function netnsExists(netns: string): boolean {
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

export function netnsPids(netns: string): number[] {
  if (!netnsExists(netns)) return [];
  const r = runSync('ip', ['netns', 'pids', netns]);
  const keep = selfAndAncestors();
  return r.stdout
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
    .filter((pid) => !keep.has(pid));
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

export function inNetnsSync(netns: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): RunResult {
  return runSync('ip', ['netns', 'exec', netns, cmd, ...args], opts);
}

export function kubectl(info: ClusterInfo, args: string[], input?: string): RunResult {
  return inNetnsSync(info.netns, join(info.binDirs.k8s, 'kubectl'), ['--kubeconfig', info.kubeconfigPath, ...args], {
    env: cleanEnv(info.env),
    ...(input === undefined ? {} : { input }),
  });
}

export function curl(info: ClusterInfo, url: string): RunResult {
  return inNetnsSync(info.netns, 'curl', ['-fsS', '--max-time', '3', url]);
}

export function createNetns(info: ClusterInfo, log: (l: string) => void): void {
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

export function runNetcheck(info: ClusterInfo): RunResult {
  return inNetnsSync(info.netns, process.execPath, [join(HERE, 'netcheck.ts')]);
}

/** Runs the network-isolation self-check inside the namespace (see netcheck.ts). */
export function checkIsolation(): RunResult & { routes: string; links: string } {
  const info = clusterInfo();
  if (!netnsExists(info.netns)) throw new Error(`network namespace ${info.netns} does not exist`);
  const routes = mustSync('ip', ['-n', info.netns, 'route', 'show', 'table', 'all']);
  const links = mustSync('ip', ['-n', info.netns, 'addr', 'show']);
  return { ...runNetcheck(info), routes, links };
}
