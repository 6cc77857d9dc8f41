// Runs the operator under test as a local process inside the network namespace (as it would run in its pod),
// authenticated as cluster admin or as its own ServiceAccount.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { DEFAULT_ISTIO_NAMESPACE } from '../../src/api/constants.ts';
import { applyObjects } from './mesh.ts';
import { kubectl, waitFor, type Kube } from './kube.ts';

export const OPERATOR_NAMESPACE = 'istio-upgrade-operator';
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const DEPLOY = fileURLToPath(new URL('../../deploy', import.meta.url));

/** deploy/ rendered by kustomize, minus what a local process replaces (its Deployment, PDB, Service). */
export async function deployManifests(kube: Kube): Promise<object[]> {
  const rendered = await kubectl(kube, ['kustomize', DEPLOY]);
  return yaml.loadAll(rendered).filter((o): o is { kind: string } => typeof o === 'object' && o !== null && 'kind' in o).filter((o) => !['Deployment', 'PodDisruptionBudget', 'Service'].includes(o.kind));
}

export async function installOperatorManifests(kube: Kube): Promise<void> {
  // deploy/ has a Role in the Istio namespace, which exists wherever Istio is installed.
  await kubectl(kube, ['create', 'namespace', DEFAULT_ISTIO_NAMESPACE]).catch(() => undefined);
  await applyObjects(kube, await deployManifests(kube));
  await waitFor('CRD established', async () => (await kubectl(kube, ['get', 'crd', 'istioupgrades.istioupgrade.dev', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}'])) === 'True');
}

/** A kubeconfig holding a fresh token of the operator's ServiceAccount (TokenRequest), so RBAC applies. */
export async function serviceAccountKubeconfig(kube: Kube, account = 'istio-upgrade-operator'): Promise<string> {
  const token = await kube.core.createNamespacedServiceAccountToken({ name: account, namespace: OPERATOR_NAMESPACE, body: { spec: { expirationSeconds: 24 * 3600, audiences: [] } } });
  const admin = yaml.load(readFileSync(kube.info.kubeconfigPath, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
  const cluster = admin.clusters[0]?.cluster ?? {};
  const path = join(kube.info.clusterDir, `kubeconfig-${account}`);
  writeFileSync(path, yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'hermetic', cluster }],
    users: [{ name: account, user: { token: token.status?.token } }],
    contexts: [{ name: account, context: { cluster: 'hermetic', user: account } }],
    'current-context': account,
  }), { mode: 0o600 });
  return path;
}

export interface OperatorOptions {
  readonly kubeconfig: string;
  readonly identity: string;
  readonly metricsPort?: number;
  /** none (default): the loopback listener is open to this host; kubernetes: tokens are reviewed. */
  readonly metricsAuth?: 'kubernetes' | 'none';
  readonly extraArgs?: readonly string[];
  /** Node flags before the entry point (e.g. heap sizes). */
  readonly nodeArgs?: readonly string[];
  /** Another entry point than src/main.ts (e.g. a bundled build). */
  readonly entry?: string;
  /** Extra environment (e.g. glibc malloc tuning, as the image sets it). */
  readonly env?: Readonly<Record<string, string>>;
}

export class OperatorProcess {
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private readonly options: OperatorOptions;

  constructor(kube: Kube, options: OperatorOptions) {
    this.options = options;
    mkdirSync(kube.info.logsDir, { recursive: true });
    this.logFile = join(kube.info.logsDir, `operator-${options.identity}.log`);
    // One log per scenario (a restart of the same process appends): tests read what this run did, not an earlier one.
    writeFileSync(this.logFile, '');
  }

  start(): void {
    const out = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [
      ...(this.options.nodeArgs ?? []),
      this.options.entry ?? MAIN,
      `--kubeconfig=${this.options.kubeconfig}`,
      `--namespace=${OPERATOR_NAMESPACE}`,
      `--identity=${this.options.identity}`,
      `--metrics-bind-address=127.0.0.1:${this.options.metricsPort ?? 9464}`,
      `--metrics-auth=${this.options.metricsAuth ?? 'none'}`,
      '--resync=10s',
      ...(this.options.extraArgs ?? []),
    ], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...this.options.env } });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        resolve(code);
      });
    });
    this.child = child;
  }

  /** The operator's process id while it runs (benchmarks read its /proc). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: a crash, no draining, no lease release. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait for the drain; returns the exit code. */
  async stop(): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.child?.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, 30_000);
    });
    const code = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (code === 'timeout') {
      this.child?.kill('SIGKILL');
      throw new Error('the operator did not drain within 30s of SIGTERM');
    }
    return code ?? null;
  }

  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  async metrics(): Promise<string> {
    return (await this.fetchMetrics()).text();
  }

  /** GET /metrics, with a bearer token when given. */
  async fetchMetrics(token?: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.options.metricsPort ?? 9464}/metrics`, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });
  }
}

/** Runs `istio-upgrade-operator plan -f -` on a manifest, as a user would before applying it. */
export async function runPlanCommand(kube: Kube, manifest: object, output: 'text' | 'yaml' | 'json' = 'text'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, 'plan', '-f', '-', `--kubeconfig=${kube.info.kubeconfigPath}`, '-o', output], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(yaml.dump(manifest));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
