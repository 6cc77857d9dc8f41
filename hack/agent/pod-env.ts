// The environment and command line the kubelet would give a container: literal env values, the downward API
// (fieldRef, resourceFieldRef), ConfigMap/Secret references and `$(VAR)` expansion, so local processes see what the
// container would see.
import { availableParallelism, totalmem } from 'node:os';
import type { V1Container, V1EnvVarSource } from '@kubernetes/client-node';
import { parseQuantity } from './quantity.ts';

/** What the downward API can expose of the pod (or, for istiod, of the Deployment's pod template). */
export interface PodFacts {
  readonly metadata: {
    readonly name?: string | undefined;
    readonly namespace?: string | undefined;
    readonly uid?: string | undefined;
    readonly labels?: Readonly<Record<string, string>> | undefined;
    readonly annotations?: Readonly<Record<string, string>> | undefined;
  };
  readonly nodeName?: string | undefined;
  readonly serviceAccountName?: string | undefined;
  readonly podIP?: string | undefined;
  readonly hostIP?: string | undefined;
}

/** Reads ConfigMap and Secret data (as the kubelet does with its node credentials); undefined when absent. */
export interface KeyLookup {
  configMap(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  secret(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
}

export async function containerEnv(container: V1Container, pod: PodFacts, lookup: KeyLookup): Promise<Record<string, string>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    const data = source.configMapRef
      ? await lookup.configMap(namespace, source.configMapRef.name ?? '')
      : source.secretRef
        ? await lookup.secret(namespace, source.secretRef.name ?? '')
        : undefined;
    const optional = source.configMapRef?.optional ?? source.secretRef?.optional ?? false;
    if (data === undefined && !optional) throw new Error('envFrom source not found');
    for (const [key, value] of Object.entries(data ?? {})) env[prefix + key] = value;
  }
  for (const variable of container.env ?? []) {
    if (variable.valueFrom) {
      const value = await valueFrom(variable.valueFrom, container, pod, lookup);
      if (value !== undefined) env[variable.name] = value;
    } else {
      env[variable.name] = expandReferences(variable.value ?? '', env);
    }
  }
  return env;
}

/** Kubernetes `$(VAR)` expansion: known names are replaced, `$$` escapes, unknown references stay as written. */
export function expandReferences(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (name === undefined) return '$';
    return env[name] ?? whole;
  });
}

async function valueFrom(source: V1EnvVarSource, container: V1Container, pod: PodFacts, lookup: KeyLookup): Promise<string | undefined> {
  const namespace = pod.metadata.namespace ?? 'default';
  if (source.fieldRef) return fieldValue(source.fieldRef.fieldPath, pod);
  if (source.resourceFieldRef) {
    return resourceValue(source.resourceFieldRef.resource, source.resourceFieldRef.divisor, container);
  }
  const ref = source.configMapKeyRef ?? source.secretKeyRef;
  if (ref) {
    const data = source.configMapKeyRef ? await lookup.configMap(namespace, ref.name ?? '') : await lookup.secret(namespace, ref.name ?? '');
    const value = data?.[ref.key];
    if (value === undefined && ref.optional !== true) throw new Error(`env reference ${ref.name ?? ''}/${ref.key} not found`);
    return value;
  }
  return undefined;
}

function fieldValue(fieldPath: string, pod: PodFacts): string {
  const mapKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (mapKey) {
    const map = mapKey[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[mapKey[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return pod.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.hostIP ?? '';
    default:
      throw new Error(`unsupported fieldRef ${fieldPath}`);
  }
}

/** Like the kubelet: the container's limit, else the node's capacity (this machine), divided and rounded up. */
function resourceValue(resource: string, divisor: string | undefined, container: V1Container): string {
  const [kind, name = ''] = resource.split('.');
  const declared = kind === 'requests' ? container.resources?.requests?.[name] : container.resources?.limits?.[name];
  const fallback = name === 'cpu' ? availableParallelism() : name === 'memory' ? totalmem() : 0;
  const amount = (declared === undefined ? undefined : parseQuantity(declared)) ?? fallback;
  const unit = (divisor === undefined ? undefined : parseQuantity(divisor)) ?? 1;
  return String(Math.ceil(amount / (unit > 0 ? unit : 1)));
}
