// Small helpers over the API for the end-to-end harness (test/cluster and npm run demo): typed clients, kubectl, waiting.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  AdmissionregistrationV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  ApiException,
} from '@kubernetes/client-node';
import { clusterInfo, ensureClusterUp, insideNetns, type ClusterInfo } from '../cluster/cluster.ts';

const run = promisify(execFile);

export interface Kube {
  readonly info: ClusterInfo;
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly custom: CustomObjectsApi;
  readonly admission: AdmissionregistrationV1Api;
}

export async function connect(): Promise<Kube> {
  const netns = clusterInfo().netns;
  if (!insideNetns(netns)) throw new Error(`run inside the cluster's network namespace: npm run cluster -- exec -- npm test (${netns})`);
  const info = await ensureClusterUp();
  const config = new KubeConfig();
  config.loadFromFile(info.kubeconfigPath);
  return {
    info,
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    batch: config.makeApiClient(BatchV1Api),
    rbac: config.makeApiClient(RbacAuthorizationV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    admission: config.makeApiClient(AdmissionregistrationV1Api),
  };
}

/** kubectl with the cluster's kubeconfig; rejects with stderr on a non-zero exit. */
export async function kubectl(kube: Kube, args: string[], input?: string): Promise<string> {
  const child = run('kubectl', args, { env: { ...process.env, ...kube.info.env }, maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  const { stdout } = await child;
  return stdout;
}

export async function istioctl(kube: Kube, version: string, args: string[]): Promise<string> {
  const { stdout } = await run(`istioctl-${version}`, ['--kubeconfig', kube.info.kubeconfigPath, ...args], { env: { ...process.env, ...kube.info.env }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export async function ignoreNotFound(request: () => Promise<unknown>): Promise<void> {
  try {
    await request();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value (not undefined/false); fails with the last observation. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 120_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(intervalMs);
  }
}
