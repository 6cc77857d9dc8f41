// Actions the planner asks src/kube to carry out. Each is idempotent by construction: names and stamps are
// deterministic, so running an action twice (after a crash) changes nothing the second time.
import type { WorkloadKind } from './observed.ts';
import type { Reason } from './reasons.ts';
import type { TagWebhook } from './tag-webhook.ts';

export type IstioctlPurpose = 'precheck' | 'install' | 'uninstall' | 'uninstall-new';
/** Helm mode's Jobs, one helm command each (core/helm-jobs.ts); gateway purposes carry the gateway's index. */
export type HelmPurpose =
  | IstioctlPurpose
  | 'precheck-old'
  | 'install-base'
  | 'tag-new'
  | 'tag-old'
  | 'rollback-tag-old'
  | 'rollback-tag-new'
  | `precheck-gw${number}`
  | `gw${number}`
  | `rollback-gw${number}`;
export type InstallerPurpose = HelmPurpose;

export type InstallerTool = 'istioctl' | 'helm';

export interface RunInstallerJob {
  readonly type: 'runInstallerJob';
  readonly tool: InstallerTool;
  readonly purpose: InstallerPurpose;
  /** Helm mode: Secret (operator namespace) whose username/password keys the Job passes to helm. */
  readonly credentialsSecret?: string | undefined;
  readonly jobName: string;
  readonly image: string;
  readonly args: readonly string[];
  /** IstioOperator overlay mounted as a file and passed with `-f`, when non-empty. */
  readonly overlay: Readonly<Record<string, unknown>> | undefined;
}

/** Writes a revision tag's objects (Service, injector, and for "default" the validator), as `istioctl tag set` does. */
export interface ApplyTagWebhook {
  readonly type: 'applyTagWebhook';
  readonly tag: string;
  readonly revision: string;
  readonly webhook: TagWebhook;
}

/** Makes the non-revisioned injector's entries never match, as `istioctl tag set default` does once the tag serves. */
export interface DeactivateInjector {
  readonly type: 'deactivateInjector';
  readonly name: string;
}

export interface RestartWorkload {
  readonly type: 'restartWorkload';
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  /** `<upgrade uid>/<revision>`; the restart is skipped when the template already carries it. */
  readonly stamp: string;
  readonly restartedAt: string;
}

/** Evicts one pod through the Eviction API, which honours PodDisruptionBudgets (OnDelete workloads). */
export interface EvictPod {
  readonly type: 'evictPod';
  readonly namespace: string;
  readonly name: string;
}

/** Sets namespace labels (e.g. moves a namespace pinned to the old revision onto the tag). */
export interface LabelNamespace {
  readonly type: 'labelNamespace';
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Removes the installer's ClusterRoleBinding once the Job it was granted for has finished: the installer
 * account holds its (cluster-admin-like) role only while one of its Jobs runs.
 */
export interface RevokeInstallerAccess {
  readonly type: 'revokeInstallerAccess';
  readonly jobName: string;
}

/**
 * Sets or removes `helm.sh/resource-policy: keep` on a tag's objects (its injector webhook and Service) while Helm
 * moves them between releases: the release that gives the tag up would otherwise delete them on its upgrade.
 */
export interface SetTagResourcePolicy {
  readonly type: 'setTagResourcePolicy';
  readonly tag: string;
  readonly webhookName: string;
  /** The tag's Service in the Istio namespace, when there is one. */
  readonly serviceName: string | undefined;
  readonly namespace: string;
  readonly keep: boolean;
}

export type Action = RunInstallerJob | SetTagResourcePolicy | ApplyTagWebhook | DeactivateInjector | RestartWorkload | EvictPod | LabelNamespace | RevokeInstallerAccess;

export interface UpgradeEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: Reason;
  readonly message: string;
}
