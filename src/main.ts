#!/usr/bin/env node
// Composition root: config, logger, clients, informers, controller, leader election, HTTP server; drains on
// SIGTERM.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { PlanInputError, runPlan } from './cli/plan-command.ts';
import { USAGE, loadConfig, type Config } from './config.ts';
import { Controller } from './controller/controller.ts';
import { LeaderElector } from './controller/leader-election.ts';
import { Reconciler } from './controller/reconciler.ts';
import { WorkQueue } from './controller/work-queue.ts';
import { InformerSet } from './kube/caches.ts';
import { makeClients, makeReviewClients } from './kube/clients.ts';
import { KubeConfigError, loadConnection } from './kube/rest/kube-connection.ts';
import { EventRecorder } from './kube/events.ts';
import { createLogger } from './runtime/logger.ts';
import { liveness } from './runtime/liveness.ts';
import { startHttpServer } from './runtime/http-server.ts';
import { OperatorMetrics } from './runtime/metrics.ts';
import { ALLOW_ALL, KubernetesMetricsAuthorizer } from './runtime/metrics-auth.ts';

const STUCK_AFTER_MS = 10 * 60_000;
/** Lease requests give up well within the renew deadline (10s), so a hung renewal is retried in time. */
const LEASE_REQUEST_TIMEOUT_MS = 4_000;

function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

async function run(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  const metrics = new OperatorMetrics();
  const connection = loadConnection(config.kubeconfig);
  const timeouts = { requestMs: config.requestTimeoutMs, leaseMs: LEASE_REQUEST_TIMEOUT_MS };
  const clients = makeClients(connection, timeouts, `istio-upgrade-operator/${version()}`);
  let kubernetesVersion: string;
  try {
    kubernetesVersion = (await clients.version.getCode()).gitVersion;
  } catch (error) {
    log.fatal({ err: error }, 'cannot reach the Kubernetes API server; check --kubeconfig or the in-cluster ServiceAccount');
    process.exit(1);
  }
  log.info({ version: version(), kubernetesVersion, namespace: config.namespace, leaderElect: config.leaderElect }, 'starting');

  const queue = new WorkQueue();
  const informers = new InformerSet(clients, config.istioNamespace, config.installerServiceAccount, log, (change) => {
    controller.onChange(change);
  });
  const installer = { namespace: config.namespace, serviceAccount: config.installerServiceAccount, activeDeadlineSeconds: Math.round(config.installerTimeoutMs / 1000) };
  const reconciler = new Reconciler({
    clients,
    caches: informers.caches,
    unsyncedCaches: () => informers.health().filter((h) => !h.up),
    observeContext: { caches: informers.caches, istioNamespace: config.istioNamespace, installerNamespace: config.namespace, kubernetesVersion, allowedInstallerImages: config.installerImages },
    installer,
    events: new EventRecorder(clients.core, config.identity),
    metrics,
    log,
    clock: () => new Date(),
    stillLeading: () => elector?.holdsLease() ?? true,
  });
  metrics.observeInformers(() => informers.health());
  const controller = new Controller({ informers, queue, reconciler, metrics, log, resyncMs: config.resyncMs });
  const elector = config.leaderElect
    ? new LeaderElector(clients.coordination, { namespace: config.namespace, name: config.leaseName, identity: config.identity, leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, log)
    : undefined;

  const server: Server = await startHttpServer(config.metricsHost, config.metricsPort, metrics.registry, {
    healthy: () => liveness(controller.stuckForMs(), informers.health(), { stuckAfterMs: STUCK_AFTER_MS, informerDownLimitMs: config.informerDownLimitMs }),
    ready: () => (informers.synced() ? { ok: true, detail: 'caches synced' } : { ok: false, detail: `waiting for caches: ${informers.unsynced().join(', ')}` }),
  }, config.metricsAuth === 'kubernetes' ? new KubernetesMetricsAuthorizer(makeReviewClients(connection, timeouts, `istio-upgrade-operator/${version()}`)) : ALLOW_ALL);
  log.info({ address: `${config.metricsHost}:${config.metricsPort}`, metricsAuth: config.metricsAuth }, 'serving /metrics, /healthz and /readyz');

  let shuttingDown = false;
  const shutdown = async (code: number, why: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ why }, 'shutting down: finishing the pass under way');
    await controller.stop();
    await elector?.stop();
    metrics.leader.set(0);
    informers.stop();
    await new Promise<void>((resolve) => server.close(() => {
      resolve();
    }));
    log.info('stopped');
    process.exit(code);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void shutdown(0, signal));
  }

  await informers.start();
  log.info('caches synced');
  if (elector === undefined) {
    metrics.leader.set(1);
    controller.start();
    return;
  }
  void elector.run({
    onStartedLeading: () => {
      metrics.leader.set(1);
      controller.start();
    },
    // Another replica may already be acting: stop at once and let the Deployment restart this one.
    onStoppedLeading: () => void shutdown(1, 'lost the leader lease'),
  });
}

const result = loadConfig(process.argv.slice(2), process.env);
switch (result.kind) {
  case 'help':
    process.stdout.write(USAGE);
    break;
  case 'version':
    process.stdout.write(`istio-upgrade-operator ${version()}\n`);
    break;
  case 'error':
    process.stderr.write(`istio-upgrade-operator: ${result.message}\n\n${USAGE}`);
    process.exitCode = 2;
    break;
  case 'plan':
    runPlan(result.options, (text) => process.stdout.write(text)).then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        process.stderr.write(`istio-upgrade-operator plan: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = error instanceof PlanInputError ? 2 : 1;
      },
    );
    break;
  case 'run':
    run(result.config).catch((error: unknown) => {
      // A kubeconfig the operator cannot use is the user's to fix: the message says how; a stack would bury it.
      const text = error instanceof KubeConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`istio-upgrade-operator: ${text}\n`);
      process.exit(1);
    });
    break;
}
