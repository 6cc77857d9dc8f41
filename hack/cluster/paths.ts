// Paths, pinned versions and the fixed address plan of the hermetic test cluster: everything clusterInfo() returns,
// which works whether or not the cluster is running.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

// ---- fixed address plan (the node agent relies on it) ---------------------------------------------------------
export const NODE_IP = '10.250.0.1';
export const SERVICE_CIDR = '10.96.0.0/16';
export const POD_CIDR = '10.244.0.0/16';
export const APISERVER_PORT = 6443;
export const PROMETHEUS_ADDRESS = '127.0.0.1:9090';
export const EXPORTER_ADDRESS = '127.0.0.1:9400';
/** Where Prometheus expects the operator under test to serve /metrics (a down target until it runs). */
export const OPERATOR_METRICS_ADDRESS = '127.0.0.1:9464';
/**
 * The Helm chart repository (hack/cluster/chart-repo.ts): on the node IP, so every process of the namespace reaches
 * it, Helm Job pods run by the node agent included (8879: the port of the former `helm serve`).
 */
export const CHART_REPO_ADDRESS = `${NODE_IP}:8879`;
/** The namespace's one link besides lo: carries NODE_IP and leads nowhere (dummy, or a bridge without ports). */
export const LINK = 'iuo0';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface ClusterVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
  istioOld: string;
  istioNew: string;
  istioOldRevision: string;
  istioNewRevision: string;
  istioHub: string;
  /** HELM_VERSION, with its leading v (v3.22.0). */
  helm: string;
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
  /** The Helm chart repository of both Istio versions (base, istiod, gateway), e.g. `helm show chart istiod --repo <url>`. */
  chartRepoUrl: string;
  /** Where hack/build put that repository (index.yaml, *.tgz). */
  chartRepoDir: string;
  /**
   * Directory put first on PATH by exec/runInNetns: kubectl, kwokctl, istioctl (new), istioctl-<v>, pilot-discovery-<v>,
   * helm and helm-<HELM_VERSION>.
   */
  binDir: string;
  binDirs: { k8s: string; etcd: string; kwok: string; istioOld: string; istioNew: string; helm: string };
  logsDir: string;
  versions: ClusterVersions;
  /** Environment for processes of the cluster (KUBECONFIG, PATH, IUO_* and the URLs). */
  env: Record<string, string>;
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
    helm: get('HELM_VERSION'),
    all,
  };
}

export interface Paths {
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

export function paths(name = clusterName()): Paths {
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
    helm: join(bin, `helm-${versions.helm}`),
  };
  const chartRepoDir = join(bin, 'chart-repo');
  const chartRepoUrl = `http://${CHART_REPO_ADDRESS}/`;
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
    IUO_CHART_REPO: chartRepoUrl,
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
    chartRepoUrl,
    chartRepoDir,
    binDir: p.binDir,
    binDirs,
    logsDir: p.logsDir,
    versions,
    env,
  };
}
