// Runs installer Job pods on this machine, as a kubelet would run their container: pods whose container image is one of
// the tools of pod-tools.ts (istioctl, helm) run the locally built binary of the tag's version, once per pod,
// authenticated as the pod's ServiceAccount, with ConfigMap/Secret mounts emulated and a private writable HOME, and
// report Running, then Succeeded/Failed with the exit code and the last lines of output as termination message, so
// the Job controller completes or fails the Job.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreV1Api, KubeConfig, V1Container, V1Pod } from '@kubernetes/client-node';
import { ManagedChild } from './child-process.ts';
import type { ChildExit } from './child-process.ts';
import { entrypointArguments } from './container-command.ts';
import type { KeyedQueue } from './keyed-queue.ts';
import type { Logger } from './logger.ts';
import { containerEnv } from './pod-env.ts';
import type { KeyLookup } from './pod-env.ts';
import { condition, isNotFound, rfc3339, updatePodStatus } from './pod-status.ts';
import type { PodTool, PodTools } from './pod-tools.ts';
import type { ContainerState, PodStatusPatch } from './pod-status.ts';
import { serviceAccountToken, tokenKubeconfig } from './service-account-kubeconfig.ts';
import { materializeMounts, rewriteMountPaths } from './volume-files.ts';

/** The kubelet's limits for a termination message read from the log: the last lines, at most 4 KiB. */
const MESSAGE_LINES = 40;
const MESSAGE_BYTES = 4096;
const DEFAULT_GRACE_SECONDS = 30;
/** What a container image's environment would provide; the agent's own environment is not passed on. */
const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface InstallerPodRunnerDeps {
  readonly core: CoreV1Api;
  readonly admin: KubeConfig;
  readonly tools: PodTools;
  readonly lookup: KeyLookup;
  readonly queue: KeyedQueue;
  /** Scratch space of the runs; each run gets its own directory, removed when it ends. */
  readonly runDir: string;
  readonly logDir: string;
  readonly log: Logger;
}

export class InstallerPodRunner {
  readonly #deps: InstallerPodRunnerDeps;
  /** UIDs of pods this agent has started (or settled): a pod is never run twice. */
  readonly #seen = new Set<string>();
  /** The tool processes running now, by pod UID. */
  readonly #running = new Map<string, ManagedChild>();
  #stopping = false;

  constructor(deps: InstallerPodRunnerDeps) {
    this.#deps = deps;
  }

  /** Called for every added or updated pod in the cluster. */
  onPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    const found = this.#deps.tools.containerOf(pod);
    if (uid === undefined || found === undefined || this.#stopping) return;
    const { container, tool } = found;
    const key = podKey(pod);
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Stop at once (the run itself holds this pod's queue until the child exits), then remove the pod.
      const child = this.#running.get(uid);
      if (child && !child.stopping) {
        this.#deps.log.info({ pod: key }, `pod deleted, stopping ${tool.name}`);
        void child.stop((pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000);
      }
      void this.#deps.queue.enqueue(key, () => this.#finishDeletion(pod));
      return;
    }
    if (this.#seen.has(uid)) return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.#seen.add(uid);
      return;
    }
    if (phase === 'Running') {
      // Running but not ours: a previous agent started it and died with it. A node that lost a container reports it
      // failed; the Job controller then decides whether to retry with a new pod.
      this.#seen.add(uid);
      void this.#deps.queue.enqueue(key, () => this.#reportOrphan(pod, container));
      return;
    }
    if (pod.spec?.nodeName === undefined) return; // not scheduled yet: no node would run it
    this.#seen.add(uid);
    void this.#deps.queue.enqueue(key, () => this.#run(pod, container, tool));
  }

  onPodDeleted(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (uid === undefined) return;
    void this.#running.get(uid)?.stop(1000);
    this.#seen.delete(uid);
  }

  /** Stops every running tool process (they report a failure, as a container killed on a node does). */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#running.values()].map((child) => child.stop(graceMs)));
  }

  async #run(pod: V1Pod, container: V1Container, tool: PodTool): Promise<void> {
    const log = this.#deps.log.child({ pod: podKey(pod), uid: pod.metadata?.uid });
    const image = container.image ?? '';
    const binary = tool.resolve(image);
    if ('error' in binary) {
      log.error({ image }, binary.error);
      await this.#report(pod, container, failedToStart(binary.error, 'ErrImagePull'));
      return;
    }
    const runDir = await mkdtemp(join(this.#deps.runDir, `${podKey(pod).replace('/', '_')}-`));
    try {
      // An API error here (TokenRequest, ConfigMap read) fails the pod rather than leaving its Job waiting forever.
      const prepared = await this.#prepare(pod, container, tool, runDir).catch((err: unknown) => ({ error: `cannot prepare the container: ${String(err)}` }));
      if ('error' in prepared) {
        log.error(prepared.error);
        await this.#report(pod, container, failedToStart(prepared.error, 'CreateContainerConfigError'));
        return;
      }
      const logFile = join(this.#deps.logDir, `${tool.name}-${podKey(pod).replace('/', '_')}.log`);
      const child = new ManagedChild({ file: binary.path, args: prepared.args, env: prepared.env, cwd: runDir, logFile, tailLines: MESSAGE_LINES });
      const uid = pod.metadata?.uid ?? '';
      this.#running.set(uid, child);
      log.info({ [tool.name]: binary.version, args: prepared.args, pid: child.pid, logFile }, `${tool.name} started`);
      try {
        await this.#report(pod, container, { running: { startedAt: rfc3339(child.startedAt) } }, binary.path);
        const exit = await child.exited;
        log.info({ exitCode: exit.exitCode, seconds: (exit.finishedAt.getTime() - exit.startedAt.getTime()) / 1000 }, `${tool.name} exited`);
        await this.#report(pod, container, terminated(exit, child.tail.text(MESSAGE_BYTES)), binary.path);
      } finally {
        this.#running.delete(uid);
      }
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  }

  async #prepare(pod: V1Pod, container: V1Container, tool: PodTool, runDir: string): Promise<{ args: string[]; env: Record<string, string> } | { error: string }> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const facts = {
      metadata: pod.metadata ?? {},
      nodeName: pod.spec?.nodeName,
      serviceAccountName: pod.spec?.serviceAccountName,
      podIP: pod.status?.podIP,
      hostIP: pod.status?.hostIP,
    };
    let env: Record<string, string>;
    try {
      env = await containerEnv(container, facts, this.#deps.lookup);
    } catch (err) {
      return { error: `cannot resolve the environment: ${String(err)}` };
    }
    const mounts = await materializeMounts(pod.spec?.volumes ?? [], container.volumeMounts ?? [], namespace, join(runDir, 'root'), this.#deps.lookup);
    if (mounts.missing.length > 0) return { error: `missing volume sources: ${mounts.missing.join(', ')}` };
    const args = entrypointArguments(container, tool.name, env);
    if ('error' in args) return args;
    const token = await serviceAccountToken(this.#deps.core, pod);
    const kubeconfig = join(runDir, 'kubeconfig');
    await writeFile(kubeconfig, tokenKubeconfig(this.#deps.admin, token, namespace), { mode: 0o600 });
    const home = join(runDir, 'home');
    await mkdir(home);
    return { args: rewriteMountPaths(args, mounts.mappings), env: processEnv(tool, env, home, kubeconfig) };
  }

  /** The kubelet's part of a graceful delete: once the container is gone, remove the pod for good. */
  async #finishDeletion(pod: V1Pod): Promise<void> {
    try {
      await this.#deps.core.deleteNamespacedPod({ name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', gracePeriodSeconds: 0 });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #reportOrphan(pod: V1Pod, container: V1Container): Promise<void> {
    this.#deps.log.warn({ pod: podKey(pod) }, 'pod was running under a previous agent: reporting it failed');
    await this.#report(pod, container, {
      terminated: {
        exitCode: 137,
        reason: 'Error',
        message: 'the node agent restarted while this container was running',
        startedAt: rfc3339(new Date()),
        finishedAt: rfc3339(new Date()),
      },
    });
  }

  async #report(pod: V1Pod, container: V1Container, state: ContainerState, binaryPath?: string): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    await updatePodStatus(this.#deps.core, namespace, name, (current) => podStatus(current, container, state, binaryPath));
  }
}

function podStatus(pod: V1Pod, container: V1Container, state: ContainerState, binaryPath: string | undefined): PodStatusPatch {
  const running = 'running' in state;
  const finished = 'terminated' in state ? state.terminated : undefined;
  const phase = finished ? (finished.exitCode === 0 ? 'Succeeded' : 'Failed') : running ? 'Running' : 'Pending';
  const notReadyReason = finished ? 'PodCompleted' : 'ContainersNotReady';
  return {
    phase,
    startTime: pod.status?.startTime ? rfc3339(new Date(pod.status.startTime)) : rfc3339(new Date()),
    conditions: [
      condition(pod, 'PodReadyToStartContainers', !finished),
      condition(pod, 'Initialized', true),
      condition(pod, 'ContainersReady', running, running ? undefined : notReadyReason),
      condition(pod, 'Ready', running, running ? undefined : notReadyReason),
    ],
    containerStatuses: [
      {
        name: container.name,
        image: container.image ?? '',
        imageID: binaryPath === undefined ? '' : `local://${binaryPath}`,
        ready: running,
        started: running,
        restartCount: 0,
        state,
      },
    ],
  };
}

function terminated(exit: ChildExit, output: string): ContainerState {
  return {
    terminated: {
      exitCode: exit.exitCode,
      ...(exit.signal === null ? {} : { signal: exit.exitCode - 128 }),
      reason: exit.exitCode === 0 ? 'Completed' : 'Error',
      message: output,
      startedAt: rfc3339(exit.startedAt),
      finishedAt: rfc3339(exit.finishedAt),
    },
  };
}

/** A container that never started (no binary, bad config): reported as failed at once so the Job does not hang. */
function failedToStart(message: string, reason: string): ContainerState {
  const now = rfc3339(new Date());
  return { terminated: { exitCode: 128, reason, message: message.slice(0, MESSAGE_BYTES), startedAt: now, finishedAt: now } };
}

/**
 * The environment of the tool process: the image's PATH, a private writable HOME in the run's own directory plus the
 * tool's own directories under it (Helm's HELM_CACHE_HOME, HELM_CONFIG_HOME, HELM_DATA_HOME), then the container's
 * env (which wins), and KUBECONFIG = the pod's ServiceAccount (always: a pod cannot name the agent's credentials).
 */
export function processEnv(tool: PodTool, containerEnv: Readonly<Record<string, string>>, home: string, kubeconfig: string): Record<string, string> {
  return { PATH: CONTAINER_PATH, HOME: home, ...tool.env(home), ...containerEnv, KUBECONFIG: kubeconfig };
}

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}
