// The API clients the operator uses, built once from a KubeConfig. Every request carries a timeout, so that a
// black-holed connection cannot hang a pass or a Lease renewal; watches (src/kube/informer.ts) are long-lived
// and bounded by the informer instead.
import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  HttpMethod,
  KubeConfig,
  RbacAuthorizationV1Api,
  ServerConfiguration,
  VersionApi,
  RequestContext,
  createConfiguration,
  type Configuration,
  type Middleware,
  type SecurityAuthentication,
} from '@kubernetes/client-node';

export interface KubeClients {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  readonly admission: AdmissionregistrationV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  /** The installer's ClusterRoleBinding only. */
  readonly rbac: RbacAuthorizationV1Api;
  readonly version: VersionApi;
  /** Lists as plain JSON, for the informers (see RawLists). */
  readonly lists: RawLists;
}

/** One page of a list request: selectors, page size and the continue token of the previous page. */
export interface ListQuery {
  readonly limit?: number;
  readonly _continue?: string;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

/** A list response as the API server sent it. */
export interface RawList {
  readonly items: readonly unknown[];
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
}

/**
 * Lists that return the API server's JSON as it is parsed, not client-node's typed models: the informers reduce
 * every object at once anyway, and the typed conversion of a 500-pod page took ~18x the parse time and twice its
 * memory (a page was held twice while it ran). Same connection pool, credentials and timeout as the typed clients.
 */
export interface RawLists {
  list(path: string, query: ListQuery): Promise<RawList>;
}

export interface RequestTimeouts {
  /** Every request but Lease requests. */
  readonly requestMs: number;
  /** Lease requests: shorter than the renew deadline, so a hung renewal ends in time to be retried. */
  readonly leaseMs: number;
}

export const DEFAULT_TIMEOUTS: RequestTimeouts = { requestMs: 30_000, leaseMs: 4_000 };

/** From a kubeconfig file when given, otherwise the in-cluster ServiceAccount. */
export function loadKubeConfig(kubeconfigPath: string | undefined): KubeConfig {
  const config = new KubeConfig();
  if (kubeconfigPath === undefined) config.loadFromCluster();
  else config.loadFromFile(kubeconfigPath);
  return config;
}

/** Aborts a request that has not been answered within `ms` (the caller sees a TimeoutError: transient). */
export function timeoutMiddleware(ms: number, userAgent: string): Middleware {
  return {
    pre: (context) => {
      context.setSignal(AbortSignal.timeout(ms));
      context.setHeaderParam('User-Agent', userAgent);
      return Promise.resolve(context);
    },
    post: (response) => Promise.resolve(response),
  };
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * client-node builds a new connection pool (undici Agent) for every request, so every call paid a TLS handshake:
 * a tenth of the operator's CPU at 1,000 workloads, and latency on every restart. This keeps the first pool and
 * gives it to every later request of the client set, so connections are kept alive and reused. Credentials
 * (headers: bearer tokens, refreshed as before) are still applied per request; the TLS material is read once,
 * as client-go does.
 */
export function pooledAuthentication(kubeConfig: KubeConfig): SecurityAuthentication {
  let shared: Dispatcher | undefined;
  return {
    getName: () => 'kubeconfig authentication with a shared connection pool',
    async applySecurityAuthentication(context: RequestContext): Promise<void> {
      await kubeConfig.applySecurityAuthentication(context);
      const created = context.getDispatcher();
      if (created === undefined) return;
      if (shared === undefined) {
        shared = created;
        return;
      }
      context.setDispatcher(shared);
      // Never used: it holds no connection, closing it only releases it at once.
      created.close().catch(() => undefined);
    },
  };
}

function rawLists(standard: Configuration, server: string, timeoutMs: number, userAgent: string): RawLists {
  return {
    async list(path, query) {
      const url = new URL(server + path);
      if (query.limit !== undefined) url.searchParams.set('limit', String(query.limit));
      if (query._continue !== undefined) url.searchParams.set('continue', query._continue);
      if (query.labelSelector !== undefined) url.searchParams.set('labelSelector', query.labelSelector);
      if (query.fieldSelector !== undefined) url.searchParams.set('fieldSelector', query.fieldSelector);
      const context = new RequestContext(url.toString(), HttpMethod.GET);
      context.setHeaderParam('Accept', 'application/json');
      context.setHeaderParam('User-Agent', userAgent);
      context.setSignal(AbortSignal.timeout(timeoutMs));
      await standard.authMethods.default?.applySecurityAuthentication(context);
      const response = await standard.httpApi.send(context).toPromise();
      const body = await response.body.text();
      // The typed clients' error for the same answer, so that callers classify both alike (410 relists, 403 RBAC).
      if (response.httpStatusCode < 200 || response.httpStatusCode >= 300) throw new ApiException(response.httpStatusCode, `list ${path}: HTTP ${response.httpStatusCode}`, body, response.headers);
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== 'object' || parsed === null || !('items' in parsed) || !Array.isArray(parsed.items)) throw new Error(`list ${path}: the answer is not a list`);
      return parsed as RawList;
    },
  };
}

function serverOf(kubeConfig: KubeConfig): string {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  return cluster.server;
}

function configuration(kubeConfig: KubeConfig, timeoutMs: number, userAgent: string): Configuration {
  return createConfiguration({
    baseServer: new ServerConfiguration(serverOf(kubeConfig), {}),
    authMethods: { default: pooledAuthentication(kubeConfig) },
    promiseMiddleware: [timeoutMiddleware(timeoutMs, userAgent)],
  });
}

export function makeClients(config: KubeConfig, timeouts: RequestTimeouts = DEFAULT_TIMEOUTS, userAgent = 'istio-upgrade-operator'): KubeClients {
  const standard = configuration(config, timeouts.requestMs, userAgent);
  return {
    config,
    core: new CoreV1Api(standard),
    apps: new AppsV1Api(standard),
    batch: new BatchV1Api(standard),
    admission: new AdmissionregistrationV1Api(standard),
    custom: new CustomObjectsApi(standard),
    coordination: new CoordinationV1Api(configuration(config, timeouts.leaseMs, userAgent)),
    rbac: new RbacAuthorizationV1Api(standard),
    version: new VersionApi(standard),
    lists: rawLists(standard, serverOf(config), timeouts.requestMs, userAgent),
  };
}

/** TokenReview and SubjectAccessReview, for the /metrics endpoint only (src/runtime/metrics-auth.ts). */
export function makeReviewClients(config: KubeConfig, timeouts: RequestTimeouts = DEFAULT_TIMEOUTS, userAgent = 'istio-upgrade-operator'): { authentication: AuthenticationV1Api; authorization: AuthorizationV1Api } {
  const standard = configuration(config, timeouts.requestMs, userAgent);
  return { authentication: new AuthenticationV1Api(standard), authorization: new AuthorizationV1Api(standard) };
}
