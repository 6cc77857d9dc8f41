// Keeps one real istiod running per istiod Deployment (one per installed revision, created by a real
// `istioctl install --set revision=<rev>`), and mirrors its readiness onto the Deployment's pods, which kwok
// simulates but is told not to make Ready: `istioctl install` and the Deployment status then wait for the real
// process, as they would wait for a real pod.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreV1Api, ObjectCache, V1ConfigMap, V1Container, V1ContainerStatus, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { entrypointArguments } from './container-command.ts';
import type { IstioBinaries } from './istio-binaries.ts';
import { containerFingerprint, istiodArguments } from './istiod-command.ts';
import { IstiodProcess } from './istiod-process.ts';
import type { IstiodSpec } from './istiod-process.ts';
import type { KeyedQueue } from './keyed-queue.ts';
import { killLeftoverIstiod } from './leftover-process.ts';
import type { Logger } from './logger.ts';
import { containerEnv } from './pod-env.ts';
import type { KeyLookup, PodFacts } from './pod-env.ts';
import { condition, hasCondition, rfc3339, updatePodStatus } from './pod-status.ts';
import type { ContainerStatusPatch, PodStatusPatch } from './pod-status.ts';
import { materializeMounts } from './volume-files.ts';

const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface IstiodControllerDeps {
  readonly core: CoreV1Api;
  readonly binaries: IstioBinaries;
  readonly lookup: KeyLookup;
  readonly queue: KeyedQueue;
  readonly namespace: string;
  readonly adminKubeconfigPath: string;
  readonly deployments: ObjectCache<V1Deployment>;
  readonly services: ObjectCache<V1Service>;
  readonly pods: ObjectCache<V1Pod>;
  /** Per-Deployment working directories are created below it and removed with the Deployment. */
  readonly stateDir: string;
  readonly logDir: string;
  readonly log: Logger;
}

export class IstiodController {
  readonly #deps: IstiodControllerDeps;
  readonly #processes = new Map<string, IstiodProcess>();
  /** The last reason a Deployment could not be started, so a repeated wait is logged once. */
  readonly #waiting = new Map<string, string>();
  #stopping = false;

  constructor(deps: IstiodControllerDeps) {
    this.#deps = deps;
  }

  onDeployment(deployment: V1Deployment): void {
    this.#enqueueReconcile(deployment.metadata?.name);
  }

  onService(service: V1Service): void {
    const name = service.metadata?.name;
    if (name !== undefined && this.#deps.deployments.get(name, this.#deps.namespace)) this.#enqueueReconcile(name);
  }

  /**
   * A mounted ConfigMap changed: rewrite its files, as the kubelet would. (Istio 1.30/1.31 charts mount only
   * istio-ca-root-cert; istiod reads the mesh config and injection template from their ConfigMaps through the API.)
   */
  onConfigMap(configMap: V1ConfigMap): void {
    const name = configMap.metadata?.name;
    for (const deployment of this.#deps.deployments.list(this.#deps.namespace)) {
      const volumes = deployment.spec?.template.spec?.volumes ?? [];
      const mounted = volumes.some(
        (v) => v.configMap?.name === name || (v.projected?.sources ?? []).some((s) => s.configMap?.name === name),
      );
      if (mounted) this.#enqueueReconcile(deployment.metadata?.name);
    }
  }

  onPod(pod: V1Pod): void {
    if (pod.metadata?.namespace !== this.#deps.namespace) return;
    const deployment = this.#deploymentOf(pod);
    if (deployment?.metadata?.name !== undefined) this.#enqueuePodSync(pod.metadata.name ?? '', deployment.metadata.name);
  }

  /**
   * Periodic resync, as controllers do: retries what no event will retrigger (a binary built after the Deployment
   * appeared) and repairs pod readiness someone else overwrote. Unchanged configuration does not restart istiod.
   */
  resync(): void {
    for (const deployment of this.#deps.deployments.list(this.#deps.namespace)) this.#enqueueReconcile(deployment.metadata?.name);
    for (const name of this.#processes.keys()) this.#syncPodsOf(name);
  }

  /** At start-up: directories of Deployments that went away while the agent was down are reconciled (cleaned). */
  async collectLeftovers(): Promise<void> {
    const names = await readdir(this.#deps.stateDir).catch(() => []);
    for (const name of names) this.#enqueueReconcile(name);
  }

  /** Agent shutdown: istiod gets `graceMs` to exit; its pods keep their last status, as when a kubelet stops. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#processes.values()].map((p) => p.stop(graceMs)));
  }

  #enqueueReconcile(name: string | undefined): void {
    if (name === undefined || this.#stopping) return;
    void this.#deps.queue.enqueue(`istiod/${name}`, () => this.#reconcile(name));
  }

  #enqueuePodSync(podName: string, deploymentName: string): void {
    if (this.#stopping) return;
    void this.#deps.queue.enqueue(`istiod-pod/${podName}`, () => this.#syncPod(podName, deploymentName));
  }

  async #reconcile(name: string): Promise<void> {
    const { namespace, log } = this.#deps;
    const deployment = this.#deps.deployments.get(name, namespace);
    const running = this.#processes.get(name);
    const wanted = deployment !== undefined && deployment.metadata?.deletionTimestamp === undefined && deployment.spec?.replicas !== 0;
    if (!wanted) {
      this.#processes.delete(name);
      this.#waiting.delete(name);
      const stateDir = this.#stateDirOf(name);
      await running?.stop();
      await killLeftoverIstiod(stateDir, join(stateDir, 'root'), log); // gone while no agent was running
      await rm(stateDir, { recursive: true, force: true });
      if (running) log.info({ deployment: name }, 'istiod Deployment gone or scaled to zero: process stopped, directory removed');
      return;
    }
    const spec = await this.#desiredSpec(deployment, name);
    if ('waiting' in spec) {
      if (this.#waiting.get(name) !== spec.waiting) log.info({ deployment: name, reason: spec.waiting }, 'istiod not started yet');
      this.#waiting.set(name, spec.waiting);
      return;
    }
    this.#waiting.delete(name);
    let process = running;
    if (process === undefined) {
      process = new IstiodProcess(this.#stateDirOf(name), log.child({ istiod: name }), () => {
        this.#syncPodsOf(name);
      });
      this.#processes.set(name, process);
    }
    await process.apply(spec);
  }

  async #desiredSpec(deployment: V1Deployment, name: string): Promise<IstiodSpec | { waiting: string }> {
    const { namespace } = this.#deps;
    const clusterIP = this.#deps.services.get(name, namespace)?.spec?.clusterIP;
    if (clusterIP === undefined || clusterIP === '' || clusterIP === 'None') return { waiting: `Service ${name} with a ClusterIP does not exist yet` };
    const template = deployment.spec?.template;
    const containers: V1Container[] = template?.spec?.containers ?? [];
    const container = containers.find((c) => c.name === 'discovery') ?? containers[0];
    if (container === undefined) return { waiting: 'the Deployment has no container' };
    const binary = this.#deps.binaries.resolve(container.image ?? '', 'pilot-discovery');
    if ('error' in binary) return { waiting: binary.error };

    const rootDir = join(this.#stateDirOf(name), 'root');
    await mkdir(rootDir, { recursive: true });
    const mounts = await materializeMounts(template?.spec?.volumes ?? [], container.volumeMounts ?? [], namespace, rootDir, this.#deps.lookup);
    if (mounts.missing.length > 0) return { waiting: `volume sources missing: ${mounts.missing.join(', ')}` };

    // The process is the Deployment's pods, serving on the Service's ClusterIP: that is its pod and host address.
    const facts: PodFacts = {
      metadata: { name: `${name}-node-agent`, namespace, uid: deployment.metadata?.uid, labels: template?.metadata?.labels, annotations: template?.metadata?.annotations },
      serviceAccountName: template?.spec?.serviceAccountName,
      podIP: clusterIP,
      hostIP: clusterIP,
    };
    let env: Record<string, string>;
    try {
      env = await containerEnv(container, facts, this.#deps.lookup);
    } catch (err) {
      return { waiting: `cannot resolve the environment: ${String(err)}` };
    }
    const args = entrypointArguments(container, 'pilot-discovery', env);
    if ('error' in args) return { waiting: args.error };
    const host = clusterIP.includes(':') ? `[${clusterIP}]` : clusterIP;
    return {
      file: binary.path,
      args: istiodArguments(args, clusterIP, this.#deps.adminKubeconfigPath),
      // KUBECONFIG in the chart points at an optional remote-cluster secret; out of cluster istiod uses the admin one.
      env: { PATH: CONTAINER_PATH, HOME: rootDir, ...env, KUBECONFIG: this.#deps.adminKubeconfigPath },
      rootDir,
      logFile: join(this.#deps.logDir, `${name}.log`),
      readyUrl: `http://${host}:8080/ready`,
      fingerprint: containerFingerprint(container),
    };
  }

  #syncPodsOf(deploymentName: string): void {
    const deployment = this.#deps.deployments.get(deploymentName, this.#deps.namespace);
    if (deployment === undefined) return;
    for (const pod of this.#deps.pods.list(this.#deps.namespace)) {
      if (selects(deployment, pod)) this.#enqueuePodSync(pod.metadata?.name ?? '', deploymentName);
    }
  }

  /** The readinessProbe result of the real istiod, written onto a pod kwok keeps Running, if istiod runs its template. */
  async #syncPod(podName: string, deploymentName: string): Promise<void> {
    const process = this.#processes.get(deploymentName);
    let ready = false;
    const changed = await updatePodStatus(this.#deps.core, this.#deps.namespace, podName, (pod) => {
      const container = pod.spec?.containers.find((c) => c.name === 'discovery') ?? pod.spec?.containers[0];
      ready = process !== undefined && process.ready && container !== undefined && containerFingerprint(container) === process.fingerprint;
      const startTime = pod.status?.startTime;
      const restarts = process === undefined || startTime === undefined ? 0 : process.restartsSince(new Date(startTime));
      return readinessPatch(pod, ready, restarts);
    });
    if (changed) this.#deps.log.info({ pod: podName, ready }, 'istiod pod readiness updated');
  }

  #deploymentOf(pod: V1Pod): V1Deployment | undefined {
    return this.#deps.deployments.list(this.#deps.namespace).find((d) => selects(d, pod));
  }

  #stateDirOf(name: string): string {
    return join(this.#deps.stateDir, name);
  }
}

function selects(deployment: V1Deployment, pod: V1Pod): boolean {
  const matchLabels = deployment.spec?.selector.matchLabels;
  if (matchLabels === undefined || Object.keys(matchLabels).length === 0) return false;
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
}

function readinessPatch(pod: V1Pod, ready: boolean, restarts: number): PodStatusPatch | undefined {
  // Only a running pod can be ready; kwok moves the pod to Running first, and that update triggers another sync.
  if (pod.metadata?.deletionTimestamp !== undefined || pod.status?.phase !== 'Running') return undefined;
  const statuses = pod.status.containerStatuses ?? [];
  const inSync =
    hasCondition(pod, 'Ready', ready) &&
    hasCondition(pod, 'ContainersReady', ready) &&
    statuses.length > 0 &&
    statuses.every((s) => s.ready === ready && s.restartCount >= restarts);
  if (inSync) return undefined;
  const reason = ready ? undefined : 'ContainersNotReady';
  return {
    conditions: [condition(pod, 'ContainersReady', ready, reason), condition(pod, 'Ready', ready, reason)],
    containerStatuses: (pod.spec?.containers ?? []).map((c) => runningContainer(c, statuses.find((s) => s.name === c.name), ready, restarts)),
  };
}

/** A running container's status, keeping what kwok reported (id, start time) and setting `ready` and restarts. */
function runningContainer(container: V1Container, reported: V1ContainerStatus | undefined, ready: boolean, restarts: number): ContainerStatusPatch {
  const startedAt = reported?.state?.running?.startedAt;
  return {
    name: container.name,
    ...(reported?.containerID === undefined ? {} : { containerID: reported.containerID }),
    image: reported?.image ?? container.image ?? '',
    imageID: reported?.imageID ?? '',
    ready,
    started: true,
    restartCount: Math.max(reported?.restartCount ?? 0, restarts),
    state: { running: { startedAt: rfc3339(startedAt === undefined ? new Date() : new Date(startedAt)) } },
  };
}
