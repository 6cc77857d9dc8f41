// The node agent of the hermetic test cluster (hack/cluster/README.md): what kwok cannot fake. It runs a real istiod for each
// istiod Deployment and executes istioctl and Helm Job pods with the real istioctl and helm, all as local processes
// inside the cluster's network namespace. Started by the launcher: node hack/agent/main.ts --kubeconfig <admin kubeconfig>.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1ConfigMap, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { IstioBinaries } from './istio-binaries.ts';
import { InstallerPodRunner } from './installer-pod-runner.ts';
import { IstiodController } from './istiod-controller.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { kubeKeyLookup } from './kube-key-lookup.ts';
import { createLogger } from './logger.ts';
import { parseOptions } from './options.ts';
import { defaultPodTools } from './pod-tools.ts';
import { resilientInformer } from './resilient-informer.ts';

const SHUTDOWN_GRACE_MS = 2500;
const RESYNC_MS = 30_000;

const options = parseOptions(process.argv.slice(2));
const log = createLogger(options.logLevel);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(options.kubeconfig);
const core = kubeConfig.makeApiClient(CoreV1Api);
const apps = kubeConfig.makeApiClient(AppsV1Api);

const logDir = join(options.workDir, 'logs');
const istiodDir = join(options.workDir, 'istiod');
const runDir = join(options.workDir, 'installer-pods');
await Promise.all([logDir, istiodDir, runDir].map((dir) => mkdir(dir, { recursive: true })));

const ns = options.istioNamespace;
const pods = resilientInformer<V1Pod>(kubeConfig, '/api/v1/pods', () => core.listPodForAllNamespaces(), log);
const deployments = resilientInformer<V1Deployment>(
  kubeConfig,
  `/apis/apps/v1/namespaces/${ns}/deployments`,
  () => apps.listNamespacedDeployment({ namespace: ns, labelSelector: 'app=istiod' }),
  log,
  'app=istiod',
);
const services = resilientInformer<V1Service>(kubeConfig, `/api/v1/namespaces/${ns}/services`, () => core.listNamespacedService({ namespace: ns }), log);
const configMaps = resilientInformer<V1ConfigMap>(kubeConfig, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }), log);

const queue = new KeyedQueue(log);
const binaries = new IstioBinaries(options.binRoot);
const lookup = kubeKeyLookup(core);
const istiods = new IstiodController({
  core,
  binaries,
  lookup,
  queue,
  namespace: ns,
  adminKubeconfigPath: options.kubeconfig,
  deployments: deployments.cache,
  services: services.cache,
  pods: pods.cache,
  stateDir: istiodDir,
  logDir,
  log: log.child({ component: 'istiod' }),
});
const installers = new InstallerPodRunner({
  core,
  admin: kubeConfig,
  tools: defaultPodTools(options.binRoot, binaries),
  lookup,
  queue,
  runDir,
  logDir,
  log: log.child({ component: 'installer-pods' }),
});

deployments.onChange((d) => {
  istiods.onDeployment(d);
});
deployments.onDelete((d) => {
  istiods.onDeployment(d);
});
services.onChange((s) => {
  istiods.onService(s);
});
configMaps.onChange((c) => {
  istiods.onConfigMap(c);
});
pods.onChange((p) => {
  istiods.onPod(p);
  installers.onPod(p);
});
pods.onDelete((p) => {
  installers.onPodDeleted(p);
});

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ signal }, 'shutting down: stopping istiod, istioctl and helm processes');
  await Promise.all([pods, deployments, services, configMaps].map((i) => i.stop()));
  // The launcher sends SIGKILL 5s after SIGTERM: leave time for the final pod status writes.
  await Promise.all([istiods.stop(SHUTDOWN_GRACE_MS), installers.stop(SHUTDOWN_GRACE_MS)]);
  await queue.drain();
  log.info('stopped');
  process.exit(0);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => void shutdown(signal));
}

// Services and ConfigMaps first, so the first Deployment event finds its Service in the cache.
await Promise.all([services.start(), configMaps.start()]);
await Promise.all([deployments.start(), pods.start()]);
await istiods.collectLeftovers();
setInterval(() => {
  istiods.resync();
}, RESYNC_MS).unref();
log.info({ ...options }, 'node agent running');
