// Health and status of the cluster: API server readiness, the daemons we start (exporter, Prometheus, agent)
// and `npm run cluster -- status`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kwokComponentPids } from './kwok.ts';
import { curl, kubectl, netnsExists } from './netns.ts';
import { LINK, NODE_IP, POD_CIDR, REPO_ROOT, SERVICE_CIDR, clusterInfo, paths, type ClusterInfo } from './paths.ts';
import { cmdline, isAlive, isZombie } from './processes.ts';

export const DAEMONS = ['exporter', 'prometheus', 'chart-repo', 'agent'] as const;
export type Daemon = (typeof DAEMONS)[number];

export function apiReady(info: ClusterInfo): boolean {
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
export function daemonPid(daemon: Daemon): number | undefined {
  const pid = readPid(daemon);
  if (pid === undefined || !isAlive(pid) || isZombie(pid)) return undefined;
  const markers: Record<Daemon, string> = { exporter: 'exporter.ts', prometheus: 'prometheus', 'chart-repo': 'chart-repo.ts', agent: 'main.ts' };
  return cmdline(pid).includes(markers[daemon]) ? pid : undefined;
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
    if (d === 'chart-repo' && pid !== undefined) detail = curl(info, `${info.chartRepoUrl}index.yaml`).code === 0 ? `IUO_CHART_REPO=${info.chartRepoUrl} serves index.yaml` : `${info.chartRepoUrl}: no index.yaml`;
    components.push({ name: d, running: pid !== undefined, ...(pid === undefined ? {} : { pid }), ...(detail === undefined ? {} : { detail }) });
  }
  const up = components.every((c) => c.running || (c.name === 'agent' && c.detail !== undefined));
  return { up, components };
}
