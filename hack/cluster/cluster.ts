// Launcher of the hermetic test cluster. Used by the CLI (main.ts:
// `npm run cluster -- up|down|status|env|exec|check`), by the end-to-end harness (hack/e2e) and by the scripts
// (ensureClusterUp, clusterInfo, ...). This module only re-exports; one file per concern:
//
//   paths.ts       address plan, cache/cluster paths, pinned versions, clusterInfo()
//   processes.ts   running commands, pid liveness, stopping a pid, polling
//   netns.ts       the network namespace with no route out; running commands inside it; checkIsolation()
//   lock.ts        one launcher at a time per cluster
//   status.ts      API server readiness, daemon pids, clusterStatus()
//   build.ts       hack/build/build-binaries.sh and the cluster's bin dir
//   prometheus.ts  Debian's prometheus and its scrape configuration
//   kwok.ts        kwokctl configuration, create/delete, kubeconfig, nodes
//   addons.ts      the exporter, Prometheus, chart repository and node agent daemons
//   chart-repo.ts  the Helm chart repository server (IUO_CHART_REPO)
//   lifecycle.ts   up and down: ensureClusterUp(), clusterDown()
//
// Everything runs inside the network namespace `iuo-<cluster>`, which has no link and no route to the outside
// (see README.md): etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (started by
// `kwokctl --runtime binary` with the binaries built by hack/build/build-binaries.sh), Prometheus (Debian
// package, our own config and data dir), the test exporter, the Helm chart repository and the node agent (hack/agent/main.ts, when present).
export {
  APISERVER_PORT,
  CHART_REPO_ADDRESS,
  EXPORTER_ADDRESS,
  NODE_IP,
  OPERATOR_METRICS_ADDRESS,
  POD_CIDR,
  PROMETHEUS_ADDRESS,
  REPO_ROOT,
  SERVICE_CIDR,
  cacheRoot,
  clusterInfo,
  clusterName,
  readVersions,
  type ClusterInfo,
  type ClusterVersions,
} from './paths.ts';
export type { RunResult } from './processes.ts';
export { checkIsolation, insideNetns, runInNetns } from './netns.ts';
export { clusterStatus, type ComponentStatus } from './status.ts';
export { clusterDown, ensureClusterUp, type Options } from './lifecycle.ts';
