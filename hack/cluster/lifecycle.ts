// up and down of the hermetic cluster (hack/cluster/README.md, "What `up` does"), and the public
// entry points ensureClusterUp and clusterDown, serialized by the cluster lock.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAddons } from './addons.ts';
import { buildBinaries, linkBinDir } from './build.ts';
import { createKwokCluster, deleteKwokCluster, registerNodes } from './kwok.ts';
import { withLock } from './lock.ts';
import { createNetns, netnsExists, netnsPids, runNetcheck } from './netns.ts';
import { clusterInfo, paths, type ClusterInfo } from './paths.ts';
import { cmdline, isAlive, isZombie, mustSync, stopPid, waitFor } from './processes.ts';
import { ensurePrometheusInstalled } from './prometheus.ts';
import { apiReady, daemonPid } from './status.ts';

export interface Options {
  /** Print progress lines (the CLI passes console.error). */
  log?: (line: string) => void;
  /**
   * Show the full build output (hack/build/build-binaries.sh) on stderr instead of writing it to logs/build.log
   * and passing only its progress lines (one per component as it starts and ends) to `log`.
   */
  verboseBuild?: boolean;
}

function versionsFingerprint(info: ClusterInfo): string {
  const v = info.versions;
  // kwok takes its Stages at create time: a cluster started with other ones (e.g. before Helm pods were left to the
  // node agent) is recreated too.
  const stages = createHash('sha256').update(readFileSync(join(import.meta.dirname, 'kwok-stages.yaml'))).digest('hex').slice(0, 12);
  // IUO_KCM_QPS (benchmarks) changes how the cluster runs: a cluster started with another value is recreated.
  return [v.kubernetes, v.etcd, v.kwok, v.istioOld, v.istioNew, `stages=${stages}`, ...(process.env.IUO_KCM_QPS === undefined || process.env.IUO_KCM_QPS === '' ? [] : [`kcm-qps=${process.env.IUO_KCM_QPS}`])].join(' ');
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

  // A cold build takes ~20 minutes: its progress lines are shown even to a caller that passed no log.
  await buildBinaries(info, opts.verboseBuild === true, opts.log ?? ((line) => process.stderr.write(`[cluster] ${line}\n`)));
  linkBinDir(info);
  await ensurePrometheusInstalled(info, log);

  createNetns(info, log);
  const check = runNetcheck(info);
  writeFileSync(join(p.logsDir, 'netcheck.log'), check.stdout + check.stderr);
  if (check.code !== 0) throw new Error(`network isolation check failed:\n${check.stdout}${check.stderr}`);

  createKwokCluster(info, p, log);
  await waitFor('kube-apiserver /readyz', () => apiReady(info), 120_000);

  await registerNodes(info, log);

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
  for (const d of ['agent', 'chart-repo', 'prometheus', 'exporter'] as const) {
    const pid = daemonPid(d);
    if (pid !== undefined) {
      log(`stopping ${d} (pid ${pid})`);
      await stopPid(pid);
    }
  }
  await deleteKwokCluster(info, p, log);
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
      log('the running cluster was built from other pinned versions (hack/versions.env) or IUO_KCM_QPS: recreating it');
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
