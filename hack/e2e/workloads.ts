// Builders for the objects of the end-to-end meshes: namespaces (marked so every reset removes them) and
// workloads of every kind, with the template labels, strategies and pod specs the shapes need.
const tolerateAll = [{ operator: 'Exists' }];

export const SHAPE_NAMESPACE_LABEL = 'iuo.test/shape';

export function shapeNamespace(name: string, labels: Readonly<Record<string, string>> = {}): object {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [SHAPE_NAMESPACE_LABEL]: 'true', ...labels } } };
}

export interface WorkloadShape {
  readonly replicas?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly templateLabels?: Readonly<Record<string, string>>;
  readonly templateAnnotations?: Readonly<Record<string, string>>;
  readonly hostNetwork?: boolean;
  /** Deployment: paused. */
  readonly paused?: boolean;
  /** StatefulSet/DaemonSet updateStrategy. */
  readonly onDelete?: boolean;
  /** StatefulSet rollingUpdate.partition. */
  readonly partition?: number;
}

function template(name: string, shape: WorkloadShape) {
  return {
    metadata: { labels: { app: name, ...shape.templateLabels }, ...(shape.templateAnnotations === undefined ? {} : { annotations: { ...shape.templateAnnotations } }) },
    spec: { tolerations: tolerateAll, ...(shape.hostNetwork === true ? { hostNetwork: true } : {}), containers: [{ name: 'app', image: 'registry.example/app:1' }] },
  };
}

export function deployment(namespace: string, name: string, shape: WorkloadShape = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, ...(shape.labels === undefined ? {} : { labels: { ...shape.labels } }) },
    spec: { replicas: shape.replicas ?? 1, ...(shape.paused === true ? { paused: true } : {}), selector: { matchLabels: { app: name } }, template: template(name, shape) },
  };
}

export function statefulSet(namespace: string, name: string, shape: WorkloadShape = {}): object[] {
  const strategy = shape.onDelete === true ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: shape.partition ?? 0 } };
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ port: 5432 }] } },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace, ...(shape.labels === undefined ? {} : { labels: { ...shape.labels } }) },
      spec: { serviceName: name, replicas: shape.replicas ?? 1, updateStrategy: strategy, selector: { matchLabels: { app: name } }, template: template(name, shape) },
    },
  ];
}

export function daemonSet(namespace: string, name: string, shape: WorkloadShape = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace, ...(shape.labels === undefined ? {} : { labels: { ...shape.labels } }) },
    spec: { updateStrategy: { type: shape.onDelete === true ? 'OnDelete' : 'RollingUpdate' }, selector: { matchLabels: { app: name } }, template: template(name, shape) },
  };
}
