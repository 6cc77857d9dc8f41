// Actions the planner asks src/kube to carry out. Each is idempotent by construction: names and stamps are
// deterministic, so running an action twice (after a crash) changes nothing the second time.
import type { WorkloadKind } from './observed.ts';
import type { TagWebhook } from './tag-webhook.ts';

export type InstallerPurpose = 'precheck' | 'install' | 'uninstall';

export interface RunInstallerJob {
  readonly type: 'runInstallerJob';
  readonly purpose: InstallerPurpose;
  readonly jobName: string;
  readonly image: string;
  readonly args: readonly string[];
  /** IstioOperator overlay mounted as a file and passed with `-f`, when non-empty. */
  readonly overlay: Readonly<Record<string, unknown>> | undefined;
}

export interface ApplyTagWebhook {
  readonly type: 'applyTagWebhook';
  readonly tag: string;
  readonly revision: string;
  readonly webhook: TagWebhook;
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

export type Action = RunInstallerJob | ApplyTagWebhook | RestartWorkload;

export interface UpgradeEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}
