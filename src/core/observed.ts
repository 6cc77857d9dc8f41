// ObservedState: everything the planner may look at, gathered by src/kube from informer caches. Plain data,
// already reduced to what decisions need, so planning stays a pure function.
import type { LabelSelector, Phase } from '../api/schema.ts';

type Labels = Readonly<Record<string, string>>;

/** The workload kinds the operator restarts (src/kube/workloads has one adapter per kind). */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** How a change of the pod template reaches the pods. */
export type UpdateMode =
  /** The controller replaces the pods by itself (RollingUpdate). */
  | 'rolling'
  /** Pods are replaced only when deleted (updateStrategy OnDelete): the operator evicts them. */
  | 'onDelete'
  /** A StatefulSet partition > 0 keeps lower ordinals on the old template on purpose. */
  | 'partitioned'
  /** A paused Deployment does not roll. */
  | 'paused';

export interface UpgradeSummary {
  readonly name: string;
  readonly uid: string;
  /** Every tag the upgrade moves (spec.tag and spec.additionalTags). */
  readonly tags: readonly string[];
  readonly phase: Phase | undefined;
  readonly creationTimestamp: string;
}

/** One istiod control plane, found by its istiod Deployment (`istiod-<revision>`, or `istiod` for "default"). */
export interface RevisionState {
  readonly revision: string;
  readonly deploymentName: string;
  /** From the istiod container image tag; undefined when the tag is not a version. */
  readonly version: string | undefined;
  readonly ready: boolean;
  /** The Deployment's own labels and annotations: who installed it (Helm, Argo CD, istioctl). */
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** A Service of the Istio namespace that carries an istio.io/rev label (istiod and tag Services). */
export interface ServiceState {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** Helm's ownership marks (meta.helm.sh/*, helm.sh/resource-policy) among them. */
  readonly annotations: Labels;
}

export interface WebhookClientConfig {
  readonly service?: { readonly name: string; readonly namespace: string; readonly path?: string; readonly port?: number };
  readonly url?: string;
  readonly caBundle?: string;
}

export interface WebhookEntry {
  readonly name: string;
  readonly clientConfig: WebhookClientConfig;
  readonly reinvocationPolicy?: string;
  readonly failurePolicy?: string;
  readonly namespaceSelector?: LabelSelector;
  readonly objectSelector?: LabelSelector;
}

export interface WebhookConfiguration {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly webhooks: readonly WebhookEntry[];
}

export interface NamespaceState {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerState {
  readonly name: string;
  readonly restarts: number;
  /** Why the container is waiting (e.g. CrashLoopBackOff), when it is. */
  readonly waitingReason?: string;
}

export interface PodState {
  readonly namespace: string;
  readonly name: string;
  /** Tells a recreated pod (a StatefulSet's keeps its name) from the one it replaces. */
  readonly uid: string;
  readonly phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  readonly labels: Labels;
  /** Revision from the `sidecar.istio.io/status` annotation; undefined when the pod was not injected. */
  readonly injectedRevision: string | undefined;
  /** Image of the `istio-proxy` container, when there is one. */
  readonly proxyImage: string | undefined;
  readonly hostNetwork: boolean;
  /** Controller owner: a workload, `Job`, `ReplicaSet` without Deployment, or undefined for bare pods. */
  readonly owner: { readonly kind: string; readonly name: string } | undefined;
  /** For pods of Jobs: the Job has finished (Complete or Failed). */
  readonly ownerJobFinished: boolean;
  readonly terminating: boolean;
  readonly ready: boolean;
  /** When the Ready condition last changed. */
  readonly readySince: string | undefined;
  readonly containers: readonly ContainerState[];
  /** The first non-zero container exit with its termination message. */
  readonly failure?: string;
}

export interface RolloutState {
  readonly generation: number;
  readonly observedGeneration: number;
  readonly desired: number;
  readonly updated: number;
  readonly ready: number;
  /** All pods the controller still counts, old and new. */
  readonly total: number;
}

export interface WorkloadState {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  /** The workload object's own labels and annotations (component, owner and Gateway API labels). */
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly templateLabels: Labels;
  readonly templateAnnotations: Labels;
  /** Containers of the pod template (an image other than "auto" on istio-proxy means not injected). */
  readonly templateContainers: readonly { readonly name: string; readonly image: string | undefined }[];
  readonly hostNetwork: boolean;
  readonly update: UpdateMode;
  readonly rollout: RolloutState;
  readonly pods: readonly PodState[];
}

export type JobOutcome = 'Running' | 'Succeeded' | 'Failed';

export interface JobState {
  readonly name: string;
  readonly outcome: JobOutcome;
  /** Termination message of the failed pod, or the Job's failure condition message. */
  readonly message: string | undefined;
  readonly completedAt: string | undefined;
}

/** One series of a measurement: its labels (empty for a scalar) and value. */
export interface Series {
  readonly labels: Labels;
  readonly value: number;
}

/** One soak check as measured by a provider in src/kube. */
export type MetricReading =
  /** One or more series; every one is judged. */
  | { readonly name: string; readonly kind: 'series'; readonly series: readonly Series[] }
  /** An empty result: nothing measured. */
  | { readonly name: string; readonly kind: 'noData' }
  /** The provider could not answer (unreachable, 5xx, timeout): not the workloads' fault. */
  | { readonly name: string; readonly kind: 'error'; readonly message: string }
  /** The provider rejected the query itself (PromQL that does not parse). */
  | { readonly name: string; readonly kind: 'invalid'; readonly message: string };

/** The readings taken for the target the planner asked for ("precheck" when validating the queries). */
export interface MetricsSample {
  readonly target: string;
  readonly readings: readonly MetricReading[];
}

/** One namespace's workloads, and its pods that belong to none. */
export interface NamespaceObjects {
  readonly workloads: readonly WorkloadState[];
  readonly otherPods: readonly PodState[];
}

/**
 * Observations of byNamespace, numbered: what the planner derived at one epoch stays valid for every namespace
 * not named since, so a pass updates only those (issue 14: the cost of a pass follows the change, not the mesh).
 */
export interface NamespaceEpochs {
  /** The epoch of this observation. */
  readonly current: number;
  /** The namespaces whose entry changed after `epoch` up to `current`; undefined when that is no longer known. */
  changedSince(epoch: number): ReadonlySet<string> | undefined;
}

export interface ObservedState {
  readonly kubernetesVersion: string;
  readonly istioNamespace: string;
  /** Installer images an IstioUpgrade may choose (operator configuration --installer-images). */
  readonly allowedInstallerImages: readonly string[];
  readonly otherUpgrades: readonly UpgradeSummary[];
  readonly revisions: readonly RevisionState[];
  readonly mutatingWebhooks: readonly WebhookConfiguration[];
  /** Validating webhooks of Istio (the default revision's validator follows the "default" tag). */
  readonly validatingWebhooks: readonly WebhookConfiguration[];
  /** Services of the Istio namespace labelled with a revision (istiod, tag Services). */
  readonly services: readonly ServiceState[];
  readonly namespaces: readonly NamespaceState[];
  readonly workloads: readonly WorkloadState[];
  /** Pods not owned by a Deployment, StatefulSet or DaemonSet (Job pods, bare pods, orphans). */
  readonly otherPods: readonly PodState[];
  /**
   * The same workloads and other pods, by namespace. observe keeps an unchanged namespace's entry as the same
   * arrays, which lets the planner reuse what it derived from them; without it the planner groups them itself.
   */
  readonly byNamespace?: ReadonlyMap<string, NamespaceObjects>;
  /** Which namespaces' entries of byNamespace changed from one observation to the next (live caches only). */
  readonly namespaceEpochs?: NamespaceEpochs;
  /** Installer Jobs of this upgrade, by name. */
  readonly jobs: readonly JobState[];
  /** The installer's ClusterRoleBinding, when it exists: the Job it was last granted for. */
  readonly installerAccess: { readonly grantedFor: string | undefined } | undefined;
  readonly metrics: MetricsSample | undefined;
}
