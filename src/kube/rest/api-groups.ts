// The API calls the operator makes, grouped as the API is, over RestClient. Names and parameter objects follow
// client-node's generated clients, so call sites read the same; answers are the API server's JSON as parsed
// (timestamps stay RFC 3339 strings). Types come from client-node at compile time only.
import type {
  CoreV1Event,
  KubernetesListObject,
  KubernetesObject,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1MutatingWebhookConfiguration,
  V1Namespace,
  V1Pod,
  V1ReplicaSet,
  V1Service,
  V1StatefulSet,
  V1SubjectAccessReview,
  V1TokenReview,
  V1ValidatingWebhookConfiguration,
  VersionInfo,
} from '@kubernetes/client-node';
import type { Query, RestClient } from './rest-client.ts';

/** The Content-Type of a PATCH, which says how the server applies it. */
export const PATCH_TYPES = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategicMerge: 'application/strategic-merge-patch+json',
  /** Server-side apply; JSON is valid YAML. */
  apply: 'application/apply-patch+yaml',
} as const;

export type PatchType = (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES];

export interface PatchOptions {
  readonly contentType: PatchType;
}

/** One page of a list: selectors, page size and the previous page's continue token. */
export interface ListParams {
  readonly limit?: number;
  readonly _continue?: string;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

interface Named {
  readonly name: string;
}
interface InNamespace {
  readonly namespace: string;
}
interface WithBody<B> {
  readonly body: B;
}
/** Server-side apply's field manager and conflict handling, and dry runs. */
interface WriteParams {
  readonly fieldManager?: string;
  readonly force?: boolean;
  readonly dryRun?: string;
}
interface CustomResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

type List<T extends KubernetesObject> = KubernetesListObject<T>;

export function listQuery(params: ListParams | undefined): Query {
  return { limit: params?.limit, continue: params?._continue, labelSelector: params?.labelSelector, fieldSelector: params?.fieldSelector };
}

function writeQuery(params: WriteParams): Query {
  return { fieldManager: params.fieldManager, force: params.force, dryRun: params.dryRun };
}

const e = encodeURIComponent;

/** get, create, patch, replace and delete of one resource path, shared by the groups below. */
class Calls {
  protected readonly rest: RestClient;
  constructor(rest: RestClient) {
    this.rest = rest;
  }
  protected list<T extends KubernetesObject>(path: string, params?: ListParams): Promise<List<T>> {
    return this.rest.request<List<T>>('GET', path, { query: listQuery(params) });
  }
  protected get<T>(path: string): Promise<T> {
    return this.rest.request<T>('GET', path);
  }
  protected create<T>(path: string, body: unknown): Promise<T> {
    return this.rest.request<T>('POST', path, { body });
  }
  protected patch<T>(path: string, params: WriteParams & WithBody<unknown>, options: PatchOptions): Promise<T> {
    return this.rest.request<T>('PATCH', path, { body: params.body, contentType: options.contentType, query: writeQuery(params) });
  }
  protected replace<T>(path: string, body: unknown): Promise<T> {
    return this.rest.request<T>('PUT', path, { body });
  }
  protected remove(path: string, body: unknown): Promise<unknown> {
    return this.rest.request('DELETE', path, { body });
  }
}

export class CoreApi extends Calls {
  listNamespace(params?: ListParams): Promise<List<V1Namespace>> {
    return this.list('/api/v1/namespaces', params);
  }
  patchNamespace(p: Named & WithBody<object>, options: PatchOptions): Promise<V1Namespace> {
    return this.patch(`/api/v1/namespaces/${e(p.name)}`, p, options);
  }
  listPodForAllNamespaces(params?: ListParams): Promise<List<V1Pod>> {
    return this.list('/api/v1/pods', params);
  }
  listNamespacedService(p: InNamespace & ListParams): Promise<List<V1Service>> {
    return this.list(`/api/v1/namespaces/${e(p.namespace)}/services`, p);
  }
  patchNamespacedService(p: Named & InNamespace & WriteParams & WithBody<object>, options: PatchOptions): Promise<V1Service> {
    return this.patch(`/api/v1/namespaces/${e(p.namespace)}/services/${e(p.name)}`, p, options);
  }
  createNamespacedPodEviction(p: Named & InNamespace & WithBody<object>): Promise<unknown> {
    return this.create(`/api/v1/namespaces/${e(p.namespace)}/pods/${e(p.name)}/eviction`, p.body);
  }
  createNamespacedEvent(p: InNamespace & WithBody<CoreV1Event>): Promise<CoreV1Event> {
    return this.create(`/api/v1/namespaces/${e(p.namespace)}/events`, p.body);
  }
  createNamespacedConfigMap(p: InNamespace & WithBody<V1ConfigMap>): Promise<V1ConfigMap> {
    return this.create(`/api/v1/namespaces/${e(p.namespace)}/configmaps`, p.body);
  }
}

export class AppsApi extends Calls {
  listDeploymentForAllNamespaces(params?: ListParams): Promise<List<V1Deployment>> {
    return this.list('/apis/apps/v1/deployments', params);
  }
  listStatefulSetForAllNamespaces(params?: ListParams): Promise<List<V1StatefulSet>> {
    return this.list('/apis/apps/v1/statefulsets', params);
  }
  listDaemonSetForAllNamespaces(params?: ListParams): Promise<List<V1DaemonSet>> {
    return this.list('/apis/apps/v1/daemonsets', params);
  }
  listReplicaSetForAllNamespaces(params?: ListParams): Promise<List<V1ReplicaSet>> {
    return this.list('/apis/apps/v1/replicasets', params);
  }
  readNamespacedDeployment(p: Named & InNamespace): Promise<V1Deployment> {
    return this.get(`/apis/apps/v1/namespaces/${e(p.namespace)}/deployments/${e(p.name)}`);
  }
  readNamespacedStatefulSet(p: Named & InNamespace): Promise<V1StatefulSet> {
    return this.get(`/apis/apps/v1/namespaces/${e(p.namespace)}/statefulsets/${e(p.name)}`);
  }
  readNamespacedDaemonSet(p: Named & InNamespace): Promise<V1DaemonSet> {
    return this.get(`/apis/apps/v1/namespaces/${e(p.namespace)}/daemonsets/${e(p.name)}`);
  }
  patchNamespacedDeployment(p: Named & InNamespace & WithBody<object>, options: PatchOptions): Promise<V1Deployment> {
    return this.patch(`/apis/apps/v1/namespaces/${e(p.namespace)}/deployments/${e(p.name)}`, p, options);
  }
  patchNamespacedStatefulSet(p: Named & InNamespace & WithBody<object>, options: PatchOptions): Promise<V1StatefulSet> {
    return this.patch(`/apis/apps/v1/namespaces/${e(p.namespace)}/statefulsets/${e(p.name)}`, p, options);
  }
  patchNamespacedDaemonSet(p: Named & InNamespace & WithBody<object>, options: PatchOptions): Promise<V1DaemonSet> {
    return this.patch(`/apis/apps/v1/namespaces/${e(p.namespace)}/daemonsets/${e(p.name)}`, p, options);
  }
}

export class BatchApi extends Calls {
  listJobForAllNamespaces(params?: ListParams): Promise<List<V1Job>> {
    return this.list('/apis/batch/v1/jobs', params);
  }
  createNamespacedJob(p: InNamespace & WithBody<V1Job>): Promise<V1Job> {
    return this.create(`/apis/batch/v1/namespaces/${e(p.namespace)}/jobs`, p.body);
  }
}

const ADMISSION = '/apis/admissionregistration.k8s.io/v1';

export class AdmissionApi extends Calls {
  listMutatingWebhookConfiguration(params?: ListParams): Promise<List<V1MutatingWebhookConfiguration>> {
    return this.list(`${ADMISSION}/mutatingwebhookconfigurations`, params);
  }
  listValidatingWebhookConfiguration(params?: ListParams): Promise<List<V1ValidatingWebhookConfiguration>> {
    return this.list(`${ADMISSION}/validatingwebhookconfigurations`, params);
  }
  readMutatingWebhookConfiguration(p: Named): Promise<V1MutatingWebhookConfiguration> {
    return this.get(`${ADMISSION}/mutatingwebhookconfigurations/${e(p.name)}`);
  }
  patchMutatingWebhookConfiguration(p: Named & WriteParams & WithBody<object>, options: PatchOptions): Promise<V1MutatingWebhookConfiguration> {
    return this.patch(`${ADMISSION}/mutatingwebhookconfigurations/${e(p.name)}`, p, options);
  }
  patchValidatingWebhookConfiguration(p: Named & WriteParams & WithBody<object>, options: PatchOptions): Promise<V1ValidatingWebhookConfiguration> {
    return this.patch(`${ADMISSION}/validatingwebhookconfigurations/${e(p.name)}`, p, options);
  }
}

export class CustomObjectsApi extends Calls {
  listClusterCustomObject(p: CustomResource & ListParams): Promise<List<KubernetesObject>> {
    return this.list(`/apis/${e(p.group)}/${e(p.version)}/${e(p.plural)}`, p);
  }
  getClusterCustomObject(p: CustomResource & Named): Promise<unknown> {
    return this.get(`/apis/${e(p.group)}/${e(p.version)}/${e(p.plural)}/${e(p.name)}`);
  }
  patchClusterCustomObjectStatus(p: CustomResource & Named & WriteParams & WithBody<unknown>, options: PatchOptions): Promise<unknown> {
    return this.patch(`/apis/${e(p.group)}/${e(p.version)}/${e(p.plural)}/${e(p.name)}/status`, p, options);
  }
}

/** A Lease as the operator writes it; times are MicroTime strings (see microTime). */
export interface LeaseBody {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: LeaseMetadata;
  readonly spec?: LeaseSpec;
}

export interface LeaseMetadata {
  readonly name?: string;
  readonly namespace?: string;
  readonly resourceVersion?: string;
}

export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

/** A MicroTime as the API server expects it: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** What leader election needs of the Lease API. */
export type LeaseApi = Pick<CoordinationApi, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

export class CoordinationApi extends Calls {
  readNamespacedLease(p: Named & InNamespace): Promise<LeaseBody> {
    return this.get(`/apis/coordination.k8s.io/v1/namespaces/${e(p.namespace)}/leases/${e(p.name)}`);
  }
  createNamespacedLease(p: InNamespace & WithBody<LeaseBody>): Promise<LeaseBody> {
    return this.create(`/apis/coordination.k8s.io/v1/namespaces/${e(p.namespace)}/leases`, p.body);
  }
  replaceNamespacedLease(p: Named & InNamespace & WithBody<LeaseBody>): Promise<LeaseBody> {
    return this.replace(`/apis/coordination.k8s.io/v1/namespaces/${e(p.namespace)}/leases/${e(p.name)}`, p.body);
  }
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

export class RbacApi extends Calls {
  readClusterRoleBinding(p: Named): Promise<V1ClusterRoleBinding> {
    return this.get(`${RBAC}/clusterrolebindings/${e(p.name)}`);
  }
  patchClusterRoleBinding(p: Named & WriteParams & WithBody<V1ClusterRoleBinding>, options: PatchOptions): Promise<V1ClusterRoleBinding> {
    return this.patch(`${RBAC}/clusterrolebindings/${e(p.name)}`, p, options);
  }
  deleteClusterRoleBinding(p: Named & WithBody<object>): Promise<unknown> {
    return this.remove(`${RBAC}/clusterrolebindings/${e(p.name)}`, p.body);
  }
}

export class VersionApi extends Calls {
  getCode(): Promise<VersionInfo> {
    return this.get('/version');
  }
}

export class AuthenticationApi extends Calls {
  createTokenReview(p: WithBody<V1TokenReview>): Promise<V1TokenReview> {
    return this.create('/apis/authentication.k8s.io/v1/tokenreviews', p.body);
  }
}

export class AuthorizationApi extends Calls {
  createSubjectAccessReview(p: WithBody<V1SubjectAccessReview>): Promise<V1SubjectAccessReview> {
    return this.create('/apis/authorization.k8s.io/v1/subjectaccessreviews', p.body);
  }
}
