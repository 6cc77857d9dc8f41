// The API clients the operator uses, built once from a kubeconfig. Every request carries a timeout, so that a
// black-holed connection cannot hang a pass or a Lease renewal; watches (src/kube/informer.ts) are long-lived
// and bounded by the informer instead.
import { AdmissionApi, AppsApi, AuthenticationApi, AuthorizationApi, BatchApi, CoordinationApi, CoreApi, CustomObjectsApi, RbacApi, VersionApi, listQuery, type ListParams } from './rest/api-groups.ts';
import type { KubeConnection } from './rest/kube-connection.ts';
import { RestClient, type Watcher } from './rest/rest-client.ts';

export interface KubeClients {
  /** Watches for the informers, on the same connections and credentials. */
  readonly watcher: Watcher;
  readonly core: CoreApi;
  readonly apps: AppsApi;
  readonly batch: BatchApi;
  readonly admission: AdmissionApi;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationApi;
  /** The installer's ClusterRoleBinding only. */
  readonly rbac: RbacApi;
  readonly version: VersionApi;
  /** Lists as plain JSON, for the informers (see RawLists). */
  readonly lists: RawLists;
}

/** One page of a list request: selectors, page size and the continue token of the previous page. */
export type ListQuery = ListParams;

/** A list response as the API server sent it. */
export interface RawList {
  readonly items: readonly unknown[];
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
}

/** Lists of any path, for the informers: the API server's JSON as parsed, which they reduce at once. */
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


function rawLists(rest: RestClient): RawLists {
  return {
    async list(path, query) {
      const parsed = await rest.request('GET', path, { query: listQuery(query) });
      if (typeof parsed !== 'object' || parsed === null || !('items' in parsed) || !Array.isArray(parsed.items)) throw new Error(`list ${path}: the answer is not a list`);
      return parsed as RawList;
    },
  };
}

export function makeClients(connection: KubeConnection, timeouts: RequestTimeouts = DEFAULT_TIMEOUTS, userAgent = 'istio-upgrade-operator'): KubeClients {
  const rest = new RestClient(connection, { timeoutMs: timeouts.requestMs, userAgent });
  return {
    watcher: rest,
    core: new CoreApi(rest),
    apps: new AppsApi(rest),
    batch: new BatchApi(rest),
    admission: new AdmissionApi(rest),
    custom: new CustomObjectsApi(rest),
    coordination: new CoordinationApi(rest.withTimeout(timeouts.leaseMs)),
    rbac: new RbacApi(rest),
    version: new VersionApi(rest),
    lists: rawLists(rest),
  };
}

/** TokenReview and SubjectAccessReview, for the /metrics endpoint only (src/runtime/metrics-auth.ts). */
export function makeReviewClients(connection: KubeConnection, timeouts: RequestTimeouts = DEFAULT_TIMEOUTS, userAgent = 'istio-upgrade-operator'): { authentication: AuthenticationApi; authorization: AuthorizationApi } {
  const rest = new RestClient(connection, { timeoutMs: timeouts.requestMs, userAgent });
  return { authentication: new AuthenticationApi(rest), authorization: new AuthorizationApi(rest) };
}
