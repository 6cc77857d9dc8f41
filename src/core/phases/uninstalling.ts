// Uninstalling: remove the old revision only when nothing uses it (no tag, namespace label, live pod, shared
// component or validator: see inventory.ts), and only after the grace period; external mode waits for someone
// else to remove it. Helm mode runs `helm uninstall` on the old istiod release.
import type { Draft } from '../draft.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { helmContext, uninstallReleaseJob } from '../helm-jobs.ts';
import { istiodRelease } from '../helm-release.ts';
import { findJob, installerJob } from '../installer-jobs.ts';
import { describeReferences, referencesTo } from '../inventory.ts';
import { blocked, fail, next, working, type StepOutcome } from '../step.ts';
import { findCanonicalWebhook } from '../tags.ts';

export function uninstalling(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const old = draft.status.fromRevision;
  if (old === undefined) return fail('FromRevisionUnknown', 'status.fromRevision is missing; the status was edited by hand');
  const succeed = (reason: 'Removed' | 'UninstallDisabled', message: string): StepOutcome => {
    draft.setCondition('OldRevisionRemoved', reason === 'Removed' ? 'True' : 'False', reason, message);
    return next('Succeeded', message);
  };
  if (!spec.uninstall.enabled) return succeed('UninstallDisabled', `revision ${old} left installed (spec.uninstall.enabled is false)`);

  const present = observed.revisions.some((r) => r.revision === old) || findCanonicalWebhook(observed.mutatingWebhooks, old) !== undefined;
  const helmRelease = spec.installer.mode === 'helm' ? istiodRelease(observed.revisions.find((r) => r.revision === old))?.release : undefined;
  const uninstallJob =
    spec.installer.mode === 'helm'
      ? uninstallReleaseJob(helmContext(draft), 'uninstall', helmRelease ?? '')
      : installerJob(draft.upgrade.metadata, spec, { purpose: 'uninstall', revision: old, istioNamespace: observed.istioNamespace, allowedImages: observed.allowedInstallerImages });
  const tool = spec.installer.mode === 'helm' ? `helm uninstall ${helmRelease ?? '?'}` : `istioctl uninstall --revision ${old}`;
  const job = findJob(observed.jobs, uninstallJob.jobName);
  // istioctl deletes the Deployment and webhooks before it has pruned the rest: its Job ends the step.
  if (job?.outcome === 'Running') return working('Uninstalling', `waiting for Job ${job.name} (${tool})`);
  if (!present) return succeed('Removed', `revision ${old} is removed`);

  if (job === undefined) {
    const refs = referencesTo(old, observed);
    if (refs.length > 0) {
      delete draft.status.oldRevisionUnusedSince;
      const message = `revision ${old} is still used by ${describeReferences(refs)}; move or delete them to let the upgrade finish`;
      draft.setCondition('OldRevisionRemoved', 'False', 'RevisionInUse', message);
      // Terminating pods go away by themselves; anything else needs a person.
      return refs.every((r) => r.transient) ? working('RevisionInUse', message) : blocked('RevisionInUse', message);
    }
    draft.status.oldRevisionUnusedSince ??= draft.now.toISOString();
    const unusedFor = draft.nowMs - Date.parse(draft.status.oldRevisionUnusedSince);
    const graceMs = parseDuration(spec.uninstall.gracePeriod);
    if (unusedFor < graceMs) {
      const message = `revision ${old} is unused; removing it after the grace period (${formatDuration(graceMs - unusedFor)} left)`;
      draft.setCondition('OldRevisionRemoved', 'False', 'GracePeriod', message);
      return working('GracePeriod', message, [], graceMs - unusedFor);
    }
  }

  if (spec.installer.mode === 'external') {
    const message = `revision ${old} is unused and safe to remove; waiting for the external installer to remove it (e.g. delete its Argo CD Application)`;
    draft.setCondition('OldRevisionRemoved', 'False', 'WaitingForExternalRemoval', message);
    return working('WaitingForExternalRemoval', message);
  }
  if (job === undefined && spec.installer.mode === 'helm' && helmRelease === undefined) {
    return fail('UninstallFailed', `the istiod Deployment of revision ${old} lost its Helm release marks (meta.helm.sh/release-name); remove its release by hand with helm uninstall`);
  }
  if (job === undefined) {
    draft.setCondition('OldRevisionRemoved', 'False', 'Uninstalling', `running \`${uninstallJob.tool} ${uninstallJob.args.join(' ')}\` (Job ${uninstallJob.jobName})`);
    return working('Uninstalling', `removing revision ${old} with Job ${uninstallJob.jobName}`, [uninstallJob]);
  }
  if (job.outcome === 'Failed') return fail('UninstallFailed', `${tool} failed (Job ${job.name}): ${job.message ?? 'no output'}`);
  return working('Uninstalling', `Job ${job.name} succeeded; waiting for revision ${old} to disappear`);
}
