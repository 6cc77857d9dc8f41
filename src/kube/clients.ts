// The API clients the operator uses, built once from a KubeConfig. Every request carries a timeout, so that a
// black-holed connection cannot hang a pass or a Lease renewal; watches (src/kube/informer.ts) are long-lived
// and bounded by the informer instead.
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  ServerConfiguration,
  VersionApi,
  createConfiguration,
  type Configuration,
  type Middleware,
  type RequestContext,
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

function configuration(kubeConfig: KubeConfig, timeoutMs: number, userAgent: string): Configuration {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
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
  };
}

/** TokenReview and SubjectAccessReview, for the /metrics endpoint only (src/runtime/metrics-auth.ts). */
export function makeReviewClients(config: KubeConfig, timeouts: RequestTimeouts = DEFAULT_TIMEOUTS, userAgent = 'istio-upgrade-operator'): { authentication: AuthenticationV1Api; authorization: AuthorizationV1Api } {
  const standard = configuration(config, timeouts.requestMs, userAgent);
  return { authentication: new AuthenticationV1Api(standard), authorization: new AuthorizationV1Api(standard) };
}
