// Installing: the new istiod runs beside the old one. istioctl mode runs `istioctl install --set revision=R`
// as a Job; external mode waits for someone else (e.g. Argo CD) to install it.
import type { Draft } from '../draft.ts';
import { parseDuration } from '../duration.ts';
import { findJob, installerJob } from '../installer-jobs.ts';
import { fail, next, working, type StepOutcome } from '../step.ts';

export function installing(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const to = draft.toRevision;
  const revision = observed.revisions.find((r) => r.revision === to);

  if (revision !== undefined && revision.version !== undefined && revision.version !== spec.version) {
    return fail('RevisionConflict', `istiod-${to} runs version ${revision.version}, not ${spec.version}`);
  }
  const installed = (reason: string, how: string): StepOutcome => {
    draft.setCondition('RevisionInstalled', 'True', reason, `istiod-${to} (${spec.version}) is Ready; ${how}`);
    return next('SwitchingTag', `revision ${to} installed and Ready`);
  };

  if (draft.status.adoptedRevision === true) {
    if (revision?.ready !== true) return fail('InstallFailed', `adopted revision ${to} is no longer Ready`);
    return installed('Adopted', 'adopted the existing revision');
  }

  if (spec.installer.mode === 'external') {
    if (revision?.ready === true) return installed('InstalledExternally', 'installed by the external installer');
    draft.setCondition('RevisionInstalled', 'False', 'WaitingForExternalInstall', `waiting for istiod-${to} (${spec.version}) to be installed and Ready by the external installer (e.g. an Argo CD Application)`);
    return working('WaitingForExternalInstall', `waiting for istiod-${to} to be installed and Ready by the external installer`);
  }

  const action = installerJob(draft.upgrade.metadata, spec, 'install', to);
  const job = findJob(observed.jobs, action.jobName);
  if (job === undefined) {
    draft.setCondition('RevisionInstalled', 'False', 'Installing', `running \`istioctl ${action.args.join(' ')}\` (Job ${action.jobName})`);
    return working('Installing', `installing revision ${to} with Job ${action.jobName}`, [action]);
  }
  if (job.outcome === 'Running') return working('Installing', `waiting for Job ${job.name} (istioctl install)`);
  if (job.outcome === 'Failed') return fail('InstallFailed', `istioctl install failed (Job ${job.name}): ${job.message ?? 'no output'}`);
  if (revision?.ready === true) return installed('Installed', `installed by Job ${job.name}`);

  const timeoutMs = parseDuration(spec.rollout.workloadTimeout);
  const doneMs = job.completedAt === undefined ? draft.nowMs : Date.parse(job.completedAt);
  if (draft.nowMs - doneMs > timeoutMs) {
    return fail('InstallFailed', `istiod-${to} is ${revision === undefined ? 'missing' : 'not Ready'} ${spec.rollout.workloadTimeout} after Job ${job.name} succeeded`);
  }
  return working('Installing', `Job ${job.name} succeeded; waiting for istiod-${to} to become Ready`);
}
