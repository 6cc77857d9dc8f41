// The daemons the harness starts inside the namespace next to the cluster: the test exporter, Prometheus, the Helm
// chart repository and the node agent (detached, logs in logs/, pids in pids/); restarted by ensureClusterUp when
// they died.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curl } from './netns.ts';
import { CHART_REPO_ADDRESS, PROMETHEUS_ADDRESS, REPO_ROOT, paths, type ClusterInfo } from './paths.ts';
import { cleanEnv, waitFor } from './processes.ts';
import { PROMETHEUS_BIN, prometheusConfig } from './prometheus.ts';
import { daemonPid, type Daemon } from './status.ts';

const HERE = import.meta.dirname;

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

export async function startAddons(info: ClusterInfo, log: (l: string) => void): Promise<void> {
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
  if (daemonPid('chart-repo') === undefined) {
    const pid = startDaemon(info, 'chart-repo', process.execPath, [join(HERE, 'chart-repo.ts'), '--listen', CHART_REPO_ADDRESS, '--dir', info.chartRepoDir]);
    log(`chart repository started (pid ${pid}) on ${info.chartRepoUrl} (IUO_CHART_REPO), serving ${info.chartRepoDir}`);
  }
  const agentMain = join(REPO_ROOT, 'hack', 'agent', 'main.ts');
  if (daemonPid('agent') === undefined && existsSync(agentMain)) {
    const pid = startDaemon(info, 'agent', process.execPath, [agentMain, '--kubeconfig', info.kubeconfigPath]);
    log(`node agent started (pid ${pid}), log ${join(info.logsDir, 'agent.log')}`);
  }
  await waitFor('the exporter to answer', () => curl(info, `${info.exporterUrl}/healthz`).code === 0, 30_000, 200);
  await waitFor('the chart repository to answer', () => curl(info, `${info.chartRepoUrl}healthz`).code === 0, 30_000, 200);
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
