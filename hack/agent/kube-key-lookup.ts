// ConfigMap and Secret data read straight from the API server (the kubelet reads them with its node identity; the
// agent uses the admin kubeconfig), for env references and mounted volumes.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { KeyLookup } from './pod-env.ts';
import { isNotFound } from './pod-status.ts';

export function kubeKeyLookup(core: CoreV1Api): KeyLookup {
  return {
    async configMap(namespace, name) {
      try {
        const configMap = await core.readNamespacedConfigMap({ name, namespace });
        const binary = Object.entries(configMap.binaryData ?? {}).map(([key, value]) => [key, decode(value)] as const);
        return { ...Object.fromEntries(binary), ...configMap.data };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async secret(namespace, name) {
      try {
        const secret = await core.readNamespacedSecret({ name, namespace });
        return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, decode(value)] as const));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}

function decode(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}
