// How to reach and authenticate to the API server, from a kubeconfig or from the in-cluster ServiceAccount,
// without @kubernetes/client-node (loading it cost ~30 MB of RSS). Where client-node and client-go (kubectl)
// differ, this follows client-go: relative paths resolve against the kubeconfig's directory, token files are
// re-read at most once a minute (bound ServiceAccount tokens rotate), exec credentials are cached until shortly
// before they expire. What is not supported (proxy-url, legacy auth providers, impersonation, client
// certificates from exec plugins) is refused with an error that says so: ignoring it would send requests
// somewhere else or as someone else than the kubeconfig says.
import { execFile, type ExecFileException } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { load } from 'js-yaml';

export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized: boolean;
  readonly servername?: string;
}

/**
 * Where the API server is and how to authenticate to it. The TLS material is fixed for the connection's life
 * (one connection pool); credentials that change (token files, exec plugins) go through authorization(), so an
 * exec plugin that returns a client certificate instead of a token is refused.
 */
export interface KubeConnection {
  /** e.g. https://127.0.0.1:6443 — no trailing slash; may carry a path prefix (kept, trailing slash removed). */
  readonly server: string;
  readonly tls: TlsMaterial;
  /** The Authorization header for the next request, or undefined. Cheap when cached; re-reads token files, refreshes exec credentials. */
  authorization(): Promise<string | undefined>;
  /**
   * The API server answered 401 to this header. A credential that can be renewed (an exec plugin's, revoked or
   * rotated before its expiry) is dropped, so the next authorization() runs the plugin again, as client-go's exec
   * authenticator does; true when that will happen, false when a new attempt would send the same.
   */
  unauthorized?(rejected: string | undefined): boolean;
}

/** The kubeconfig or the ServiceAccount cannot be used; the message says what is wrong and what to do. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

/** Milliseconds since the epoch; tests pass their own to move time without sleeping. */
export type Clock = () => number;

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** client-go re-reads token files at most this often: bound tokens are rotated by the kubelet well before they expire. */
export const TOKEN_FILE_REREAD_MS = 60_000;
/** An exec credential is refreshed this long before it expires, so that no request carries one that expires in flight. */
export const EXEC_REFRESH_BEFORE_EXPIRY_MS = 10_000;
const EXEC_TIMEOUT_MS = 30_000;
const EXEC_API_VERSIONS: readonly string[] = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
/** The cluster extension an exec plugin receives with provideClusterInfo (client-go's name for it). */
const EXEC_CLUSTER_EXTENSION = 'client.authentication.k8s.io/exec';

type Fields = Readonly<Record<string, unknown>>;
type Authorize = () => Promise<string | undefined>;

/** How a user authenticates: the header for the next request, and what a 401 to a header does (see KubeConnection). */
interface UserCredential {
  readonly authorization: Authorize;
  readonly unauthorized: (rejected: string | undefined) => boolean;
}

/** Credentials that a new attempt cannot change (a fixed token, basic auth, none, a token file re-read on its own clock). */
const fixed = (authorization: Authorize): UserCredential => ({ authorization, unauthorized: () => false });

/** From a kubeconfig file when a path is given (its current-context), otherwise the in-cluster ServiceAccount. */
export function loadConnection(kubeconfigPath: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConnection {
  if (kubeconfigPath === undefined) return loadInCluster(env);
  const path = resolve(kubeconfigPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // kubectl merges a KUBECONFIG list of files; the operator reads one.
    if (kubeconfigPath.includes(delimiter)) {
      throw new KubeConfigError(`the kubeconfig "${kubeconfigPath}" is a list of files, which the operator does not merge; pass one file (e.g. \`kubectl config view --flatten --minify > one.yaml\`)`, { cause: error });
    }
    throw new KubeConfigError(`cannot read the kubeconfig ${path}: ${messageOf(error)}; pass --kubeconfig (or KUBECONFIG) a readable file, or neither in a pod to use its ServiceAccount`, { cause: error });
  }
  let document: unknown;
  try {
    document = load(text, { filename: path });
  } catch (error) {
    throw new KubeConfigError(`the kubeconfig ${path} is not valid YAML: ${messageOf(error)}`, { cause: error });
  }
  try {
    return connectionFromKubeconfig(document, dirname(path), env);
  } catch (error) {
    // Name the file: the same mistake may not be in the kubeconfig the reader has in mind.
    if (error instanceof KubeConfigError) throw new KubeConfigError(`kubeconfig ${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** From an already parsed kubeconfig document; relative file paths resolve against baseDir. For tests and for loadConnection. */
export function connectionFromKubeconfig(document: unknown, baseDir: string, env: NodeJS.ProcessEnv = process.env, now: Clock = Date.now): KubeConnection {
  if (!isRecord(document)) throw new KubeConfigError('the kubeconfig is empty or not a mapping; expected a Config with clusters, users, contexts and current-context');
  const contextName = optString(document, 'current-context', 'the kubeconfig');
  if (contextName === undefined) throw new KubeConfigError('the kubeconfig has no current-context; choose one with `kubectl config use-context NAME`');
  const context = namedEntry(document, 'contexts', 'context', contextName);
  if (context === undefined) throw new KubeConfigError(`the current-context "${contextName}" is not among the kubeconfig's contexts; choose an existing one with \`kubectl config use-context NAME\``);

  const contextWhere = `context "${contextName}"`;
  const clusterName = optString(context, 'cluster', contextWhere);
  if (clusterName === undefined) throw new KubeConfigError(`${contextWhere} names no cluster; set its cluster`);
  const cluster = namedEntry(document, 'clusters', 'cluster', clusterName);
  if (cluster === undefined) throw new KubeConfigError(`the cluster "${clusterName}" of ${contextWhere} is not among the kubeconfig's clusters`);
  const userName = optString(context, 'user', contextWhere);
  // A context without a user is anonymous access, as in kubectl; a user that is named but missing is a mistake.
  const user = userName === undefined ? {} : namedEntry(document, 'users', 'user', userName);
  if (user === undefined) throw new KubeConfigError(`the user "${userName ?? ''}" of ${contextWhere} is not among the kubeconfig's users`);

  const target = clusterTarget(cluster, `cluster "${clusterName}"`, baseDir);
  const userWhere = `user "${userName ?? ''}"`;
  const cert = material(user, 'client-certificate', userWhere, baseDir);
  const key = material(user, 'client-key', userWhere, baseDir);
  if ((cert === undefined) !== (key === undefined)) throw new KubeConfigError(`${userWhere} has a client ${cert === undefined ? 'key' : 'certificate'} without its ${cert === undefined ? 'certificate' : 'key'}; set both client-certificate(-data) and client-key(-data), or neither`);
  const { authorization, unauthorized } = userAuthorization(user, userWhere, baseDir, env, now, target);
  return {
    server: target.server,
    tls: { ...target.tls, ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) },
    authorization,
    unauthorized,
  };
}

/** The pod's ServiceAccount, as client-go's InClusterConfig: the service environment variables, its token and CA. */
export function loadInCluster(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR, now: Clock = Date.now): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new KubeConfigError('no kubeconfig was given and this is not a pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set); pass --kubeconfig PATH (or set KUBECONFIG) to run outside the cluster, or run in a pod to use its ServiceAccount');
  }
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const authorization = fileBearer(join(dir, 'token'), 'the ServiceAccount token', now, 'is automountServiceAccountToken disabled for this pod?');
  // client-go goes on without the CA (the system's roots then apply); only a CA that exists but cannot be read is an error.
  let ca: Buffer | undefined;
  try {
    ca = readFileSync(join(dir, 'ca.crt'));
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw new KubeConfigError(`cannot read the ServiceAccount CA ${join(dir, 'ca.crt')}: ${messageOf(error)}`, { cause: error });
  }
  return { server: `https://${bracketed}:${port}`, tls: { rejectUnauthorized: true, ...(ca === undefined ? {} : { ca }) }, authorization };
}

interface ClusterTarget {
  readonly server: string;
  readonly tls: TlsMaterial;
  /** What an exec plugin with provideClusterInfo is told (ExecCredential spec.cluster). */
  readonly execInfo: Fields;
}

function clusterTarget(cluster: Fields, where: string, baseDir: string): ClusterTarget {
  if (optString(cluster, 'proxy-url', where) !== undefined) {
    throw new KubeConfigError(`${where} sets proxy-url, which the operator does not support; reach the API server directly (remove proxy-url) or run the operator in the cluster`);
  }
  const server = serverUrl(optString(cluster, 'server', where), where);
  const insecure = optBool(cluster, 'insecure-skip-tls-verify', where) ?? false;
  const servername = optString(cluster, 'tls-server-name', where);
  const ca = material(cluster, 'certificate-authority', where, baseDir);
  const extension = execExtension(cluster, where);
  return {
    server,
    tls: { rejectUnauthorized: !insecure, ...(ca === undefined ? {} : { ca }), ...(servername === undefined ? {} : { servername }) },
    execInfo: {
      server,
      ...(servername === undefined ? {} : { 'tls-server-name': servername }),
      ...(insecure ? { 'insecure-skip-tls-verify': true } : {}),
      ...(ca === undefined ? {} : { 'certificate-authority-data': ca.toString('base64') }),
      ...(extension === undefined ? {} : { config: extension }),
    },
  };
}

/** The server URL without trailing slashes; a bare host:port means https, as in client-go. */
function serverUrl(raw: string | undefined, where: string): string {
  if (raw === undefined) throw new KubeConfigError(`${where} has no server; set it to the API server's URL, e.g. https://127.0.0.1:6443`);
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `https://${raw}`);
  } catch {
    throw new KubeConfigError(`${where} has a server that is not a URL: "${raw}"; set it to the API server's URL, e.g. https://127.0.0.1:6443`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new KubeConfigError(`${where} has a server with the scheme ${url.protocol} ("${raw}"); use https:// (or http://)`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new KubeConfigError(`${where} has a server URL with credentials, a query or a fragment ("${raw}"); give only scheme, host, port and path, and credentials in the user`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

function userAuthorization(user: Fields, where: string, baseDir: string, env: NodeJS.ProcessEnv, now: Clock, target: ClusterTarget): UserCredential {
  if (user['auth-provider'] !== undefined && user['auth-provider'] !== null) {
    throw new KubeConfigError(`${where} uses an auth-provider; the legacy auth providers (gcp, azure, oidc) were removed from kubectl in 1.26 and are not supported: use an exec credential plugin instead (e.g. gke-gcloud-auth-plugin, kubelogin)`);
  }
  for (const field of ['as', 'as-uid', 'as-groups', 'as-user-extra']) {
    const value = user[field];
    if (value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0)) {
      throw new KubeConfigError(`${where} sets ${field} (impersonation), which the operator does not support; remove it, or give the operator a user with the permissions it needs`);
    }
  }
  const token = optString(user, 'token', where);
  const tokenFile = optString(user, 'tokenFile', where);
  const username = optString(user, 'username', where);
  const password = optString(user, 'password', where);
  const exec = user.exec === undefined || user.exec === null ? undefined : user.exec;
  const methods = [
    ...(token !== undefined || tokenFile !== undefined ? ['token'] : []),
    ...(username !== undefined || password !== undefined ? ['basic auth (username/password)'] : []),
    ...(exec === undefined ? [] : ['exec']),
  ];
  if (methods.length > 1) throw new KubeConfigError(`${where} has more than one way to authenticate (${methods.join(', ')}); keep one, as kubectl requires`);

  // client-go: the file wins over an inline token, as it is the one that is kept current.
  if (tokenFile !== undefined) return fixed(fileBearer(resolve(baseDir, tokenFile), `the tokenFile of ${where}`, now, 'fix the path or the file'));
  if (token !== undefined) {
    const header = `Bearer ${token}`;
    return fixed(() => Promise.resolve(header));
  }
  if (username !== undefined || password !== undefined) {
    const header = `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`;
    return fixed(() => Promise.resolve(header));
  }
  if (exec !== undefined) return execBearer(execConfig(exec, where, baseDir, target), env, now);
  return fixed(() => Promise.resolve(undefined));
}

/** A bearer token read from a file now, and again at most once a minute on use. */
function fileBearer(path: string, what: string, now: Clock, hint: string): () => Promise<string> {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new KubeConfigError(`cannot read ${what} ${path}: ${messageOf(error)}; ${hint}`, { cause: error });
  }
  if (token === '') throw new KubeConfigError(`${what} ${path} is empty; ${hint}`);
  let readAt = now();
  let reading: Promise<string> | undefined;
  return () => {
    if (now() - readAt < TOKEN_FILE_REREAD_MS) return Promise.resolve(`Bearer ${token}`);
    // A failed or empty read keeps the last token and is tried again on the next use, as in client-go.
    reading ??= readFile(path, 'utf8')
      .then(
        (text) => {
          const fresh = text.trim();
          if (fresh !== '') {
            token = fresh;
            readAt = now();
          }
        },
        () => undefined,
      )
      .then(() => `Bearer ${token}`)
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
}

interface ExecConfig {
  readonly where: string;
  readonly apiVersion: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly installHint: string | undefined;
  readonly cluster: Fields | undefined;
}

function execConfig(exec: unknown, userWhere: string, baseDir: string, target: ClusterTarget): ExecConfig {
  const where = `the exec credential plugin of ${userWhere}`;
  if (!isRecord(exec)) throw new KubeConfigError(`${where} is not a mapping`);
  const apiVersion = optString(exec, 'apiVersion', where);
  if (apiVersion === undefined || !EXEC_API_VERSIONS.includes(apiVersion)) {
    throw new KubeConfigError(`${where} has apiVersion "${apiVersion ?? ''}"; supported are ${EXEC_API_VERSIONS.join(' and ')} (v1alpha1 was removed in Kubernetes 1.24): update the kubeconfig, e.g. by running the plugin's setup again`);
  }
  const command = optString(exec, 'command', where);
  if (command === undefined) throw new KubeConfigError(`${where} has no command`);
  const interactiveMode = optString(exec, 'interactiveMode', where);
  if (interactiveMode === 'Always') {
    throw new KubeConfigError(`${where} needs a terminal (interactiveMode: Always), and the operator has none; log in with the plugin beforehand, or configure it to work non-interactively`);
  }
  const env: Record<string, string> = {};
  for (const entry of optList(exec, 'env', where)) {
    if (!isRecord(entry)) throw new KubeConfigError(`${where}: every env entry must be a mapping with name and value`);
    const name = optString(entry, 'name', where);
    if (name === undefined) throw new KubeConfigError(`${where}: an env entry has no name`);
    env[name] = optStringAllowEmpty(entry, 'value', where) ?? '';
  }
  const args = optList(exec, 'args', where).map((arg) => {
    if (typeof arg !== 'string') throw new KubeConfigError(`${where}: every arg must be a string (quote numbers and booleans)`);
    return arg;
  });
  return {
    where,
    apiVersion,
    // As client-go: a command with a path separator is a path relative to the kubeconfig; without, it is looked up in PATH.
    command: command.includes('/') ? resolve(baseDir, command) : command,
    args,
    env,
    installHint: optString(exec, 'installHint', where),
    cluster: optBool(exec, 'provideClusterInfo', where) === true ? target.execInfo : undefined,
  };
}

/**
 * Runs the plugin when there is no credential or it expires within EXEC_REFRESH_BEFORE_EXPIRY_MS; one run at a
 * time, shared by concurrent requests. A failed run is not cached: the next request tries again.
 */
function execBearer(exec: ExecConfig, baseEnv: NodeJS.ProcessEnv, now: Clock): UserCredential {
  let cached: { readonly header: string; readonly refreshAt: number } | undefined;
  let running: Promise<string> | undefined;
  const unauthorized = (rejected: string | undefined): boolean => {
    // Only the credential that was rejected: a request sent before a refresh must not drop the fresh one. Either
    // way a new attempt carries another credential.
    if (cached?.header === rejected) cached = undefined;
    return true;
  };
  const authorization = (): Promise<string> => {
    if (cached !== undefined && now() < cached.refreshAt) return Promise.resolve(cached.header);
    running ??= runPlugin(exec, baseEnv)
      .then((credential) => {
        const header = `Bearer ${credential.token}`;
        cached = { header, refreshAt: credential.expiresAt === undefined ? Number.POSITIVE_INFINITY : credential.expiresAt - EXEC_REFRESH_BEFORE_EXPIRY_MS };
        return header;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return { authorization, unauthorized };
}

interface ExecResult {
  readonly token: string;
  readonly expiresAt: number | undefined;
}

function runPlugin(exec: ExecConfig, baseEnv: NodeJS.ProcessEnv): Promise<ExecResult> {
  const request = { kind: 'ExecCredential', apiVersion: exec.apiVersion, spec: { interactive: false, ...(exec.cluster === undefined ? {} : { cluster: exec.cluster }) } };
  const env: NodeJS.ProcessEnv = { ...baseEnv, ...exec.env, KUBERNETES_EXEC_INFO: JSON.stringify(request) };
  return new Promise((resolvePromise, reject) => {
    const child = execFile(exec.command, exec.args, { env, timeout: EXEC_TIMEOUT_MS, encoding: 'utf8', windowsHide: true }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new KubeConfigError(execFailure(exec, error, stderr), { cause: error }));
        return;
      }
      try {
        resolvePromise(parseCredential(exec, stdout));
      } catch (parseError) {
        reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
      }
    });
    // Not interactive: a plugin that reads its input sees the end of it at once instead of waiting for the timeout.
    child.stdin?.end();
  });
}

function execFailure(exec: ExecConfig, error: ExecFileException, stderr: string): string {
  let what: string;
  if (error.code === 'ENOENT') what = 'was not found (neither that path nor on PATH)';
  else if (error.code === 'EACCES') what = 'is not executable';
  else if (error.killed === true && error.signal !== undefined) what = `did not finish within ${EXEC_TIMEOUT_MS / 1000} s and was stopped`;
  else if (typeof error.code === 'number') what = `exited with code ${error.code}`;
  else if (error.signal !== undefined) what = `was killed by ${error.signal}`;
  else what = `failed: ${error.message}`;
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(0, 5)
    .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line));
  return [
    `${exec.where} ("${exec.command}") ${what}`,
    ...(lines.length === 0 ? [] : [`; its stderr: ${lines.join(' | ')}`]),
    ...(exec.installHint === undefined ? [] : [`; install hint: ${exec.installHint.trim()}`]),
  ].join('');
}

function parseCredential(exec: ExecConfig, stdout: string): ExecResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new KubeConfigError(`${exec.where} ("${exec.command}") printed no ExecCredential JSON; it printed: ${stdout.trim().slice(0, 200) || '(nothing)'}`);
  }
  if (!isRecord(parsed) || parsed.kind !== 'ExecCredential') throw new KubeConfigError(`${exec.where} ("${exec.command}") printed JSON that is not an ExecCredential`);
  // As client-go: a plugin that answers in another version than it was asked is misconfigured.
  if (parsed.apiVersion !== exec.apiVersion) {
    throw new KubeConfigError(`${exec.where} is configured for ${exec.apiVersion} but the plugin answered with ${typeof parsed.apiVersion === 'string' ? parsed.apiVersion : 'no apiVersion'}; set the kubeconfig's exec apiVersion to what the plugin speaks`);
  }
  const status = parsed.status;
  if (!isRecord(status)) throw new KubeConfigError(`${exec.where} ("${exec.command}") returned an ExecCredential without status`);
  const token = typeof status.token === 'string' && status.token !== '' ? status.token : undefined;
  if (token === undefined) {
    if (status.clientCertificateData !== undefined || status.clientKeyData !== undefined) {
      throw new KubeConfigError(`${exec.where} ("${exec.command}") returned a client certificate, which the operator does not support from exec plugins (its TLS material is fixed); use a plugin that returns a token, or put client-certificate-data and client-key-data in the kubeconfig's user`);
    }
    throw new KubeConfigError(`${exec.where} ("${exec.command}") returned an ExecCredential without status.token`);
  }
  const expiration = status.expirationTimestamp;
  if (expiration === undefined || expiration === null) return { token, expiresAt: undefined };
  const expiresAt = typeof expiration === 'string' ? Date.parse(expiration) : Number.NaN;
  if (Number.isNaN(expiresAt)) throw new KubeConfigError(`${exec.where} ("${exec.command}") returned an expirationTimestamp that is not an RFC 3339 time: ${JSON.stringify(expiration)}`);
  return { token, expiresAt };
}

/** The extension an exec plugin is given as spec.cluster.config. */
function execExtension(cluster: Fields, where: string): unknown {
  for (const entry of optList(cluster, 'extensions', where)) {
    if (isRecord(entry) && entry.name === EXEC_CLUSTER_EXTENSION) return entry.extension;
  }
  return undefined;
}

/** `<field>-data` (base64) or `<field>` (a file, relative to the kubeconfig); the data wins when both are set, as in client-node. */
function material(fields: Fields, field: string, where: string, baseDir: string): Buffer | undefined {
  const data = optString(fields, `${field}-data`, where);
  if (data !== undefined) {
    const compact = data.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) throw new KubeConfigError(`${where} has a ${field}-data that is not base64; it holds the PEM file base64-encoded (base64 -w0 FILE)`);
    return Buffer.from(compact, 'base64');
  }
  const file = optString(fields, field, where);
  if (file === undefined) return undefined;
  const path = resolve(baseDir, file);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new KubeConfigError(`cannot read the ${field} of ${where}, ${path}: ${messageOf(error)}`, { cause: error });
  }
}

/** The `field` of the entry named `name` in the list `list` (kubeconfig lists are [{name, <field>: {...}}]); the first wins. */
function namedEntry(document: Fields, list: string, field: string, name: string): Fields | undefined {
  for (const item of optList(document, list, 'the kubeconfig')) {
    if (!isRecord(item) || item.name !== name) continue;
    const value = item[field];
    if (value === undefined || value === null) return {};
    if (!isRecord(value)) throw new KubeConfigError(`the ${field} of ${list} entry "${name}" is not a mapping`);
    return value;
  }
  return undefined;
}

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field; empty counts as unset, as in client-go. */
function optString(fields: Fields, key: string, where: string): string | undefined {
  const value = optStringAllowEmpty(fields, key, where);
  return value === '' ? undefined : value;
}

function optStringAllowEmpty(fields: Fields, key: string, where: string): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  // YAML reads an unquoted 12345 or true as a number or boolean; converting could change it (precision), so ask for quotes.
  if (typeof value !== 'string') throw new KubeConfigError(`${where}: ${key} must be a string; quote it in the kubeconfig`);
  return value;
}

function optBool(fields: Fields, key: string, where: string): boolean | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new KubeConfigError(`${where}: ${key} must be true or false`);
  return value;
}

function optList(fields: Fields, key: string, where: string): readonly unknown[] {
  const value = fields[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new KubeConfigError(`${where}: ${key} must be a list`);
  return value as unknown[];
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
