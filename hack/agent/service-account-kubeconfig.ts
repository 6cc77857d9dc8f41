// Credentials of a pod's ServiceAccount, as the kubelet projects them: a TokenRequest bound to the pod (so it dies
// with the pod) for the API server's default audience. Written as a kubeconfig so istioctl, which would use the
// in-cluster config in a real pod, authenticates as that ServiceAccount and RBAC applies for real.
import { readFileSync } from 'node:fs';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { dump } from 'js-yaml';

const TOKEN_SECONDS = 3600;

export async function serviceAccountToken(core: CoreV1Api, pod: V1Pod): Promise<string> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const serviceAccount = pod.spec?.serviceAccountName ?? 'default';
  const response = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: [],
        expirationSeconds: TOKEN_SECONDS,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
      },
    },
  });
  const token = response.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  return token;
}

/** A kubeconfig for `token` against the admin kubeconfig's API server and CA, defaulting to the pod's namespace. */
export function tokenKubeconfig(admin: KubeConfig, token: string, namespace: string): string {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const caData = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'cluster', cluster: { server: cluster.server, ...(caData ? { 'certificate-authority-data': caData } : {}) } }],
    users: [{ name: 'service-account', user: { token } }],
    contexts: [{ name: 'pod', context: { cluster: 'cluster', user: 'service-account', namespace } }],
    'current-context': 'pod',
  };
  return dump(config);
}
