// Actions the planner asks src/kube to carry out. Each is idempotent by construction: names and stamps are
// deterministic, so running an action twice (after a crash) changes nothing the second time.
import type { WorkloadKind } from './observed.ts';
import type { Reason } from './reasons.ts';
import type { TagWebhook } from './tag-webhook.ts';

export type InstallerPurpose = 'precheck' | 'install' | 'uninstall' | 'uninstall-new';

export interface RunInstallerJob {
  readonly type: 'runInstallerJob';
  readonly purpose: InstallerPurpose;
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

export type Action = RunInstallerJob | ApplyTagWebhook | DeactivateInjector | RestartWorkload | EvictPod | LabelNamespace | RevokeInstallerAccess;

export interface UpgradeEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: Reason;
  readonly message: string;
}
