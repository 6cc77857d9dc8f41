// Installing: first make sure installing changes no injection (a mesh on the non-revisioned injector gets an
// explicit `default` tag on that same control plane, as `istioctl tag set default --revision default` does),
// then the new istiod runs beside the old one: istioctl mode runs `istioctl install --set revision=R` as a Job;
// helm mode upgrades the base release and installs a new istiod release; external mode waits for someone else
// (e.g. Argo CD) to install it.
import { DEFAULT_TAG } from '../../api/constants.ts';
import type { Draft } from '../draft.ts';
import { parseDuration } from '../duration.ts';
import { helmContext, installBaseJob, installIstiodJob } from '../helm-jobs.ts';
import { findJob, installerJob } from '../installer-jobs.ts';
import { driveJob } from '../job-step.ts';
import { REQUEUE, fail, next, working, type StepOutcome } from '../step.ts';
import { DEFAULT_REVISION, activeNonRevisionedInjector, tagConfig } from '../tags.ts';

/** Creates the explicit default tag (then deactivates the non-revisioned injector it replaces), when needed. */
function prepareDefaultTag(draft: Draft): StepOutcome | undefined {
  const preparation = draft.view.preparation;
  if (preparation !== undefined) {
    const message = `creating tag "${DEFAULT_TAG}" on the non-revisioned control plane (revision ${DEFAULT_REVISION}) before installing, so the install changes no injection`;
    draft.setCondition('RevisionInstalled', 'False', 'PreparingTag', message);
    draft.event('Normal', 'PreparingTag', message);
    return working('PreparingTag', message, [
      { type: 'applyTagWebhook', tag: DEFAULT_TAG, revision: DEFAULT_REVISION, webhook: preparation.webhook },
      { type: 'deactivateInjector', name: preparation.injector.name },
    ], REQUEUE.soon);
  }
  // A crash between the two writes leaves the tag and the old injector both active: finish the deactivation.
  const tag = tagConfig(draft.observed.mutatingWebhooks, DEFAULT_TAG);
  const injector = activeNonRevisionedInjector(draft.observed);
  if (tag !== undefined && injector !== undefined && tag.labels['istio.io/rev'] === DEFAULT_REVISION) {
    return working('PreparingTag', `deactivating ${injector.name} now that tag "${DEFAULT_TAG}" serves it`, [{ type: 'deactivateInjector', name: injector.name }], REQUEUE.soon);
  }
  return undefined;
}

export function installing(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const to = draft.toRevision;
  const revision = observed.revisions.find((r) => r.revision === to);

  if (revision !== undefined && revision.version !== undefined && revision.version !== spec.version) {
    return fail('RevisionConflict', `revision ${to} (${revision.deploymentName}) runs version ${revision.version}, not ${spec.version}`);
  }
  const prepared = prepareDefaultTag(draft);
  if (prepared !== undefined) return prepared;

  const installed = (reason: 'Adopted' | 'InstalledExternally' | 'Installed', how: string): StepOutcome => {
    draft.setCondition('RevisionInstalled', 'True', reason, `istiod of revision ${to} (${spec.version}) is Ready; ${how}`);
    return next('SwitchingTag', `revision ${to} installed and Ready`);
  };

  if (draft.status.adoptedRevision === true) {
    if (revision?.ready !== true) return fail('InstallFailed', `adopted revision ${to} is no longer Ready`);
    return installed('Adopted', 'adopted the existing revision');
  }

  if (spec.installer.mode === 'external') {
    if (revision?.ready === true) return installed('InstalledExternally', 'installed by the external installer');
    const message = `waiting for istiod-${to} (${spec.version}) to be installed and Ready by the external installer (e.g. an Argo CD Application)`;
    draft.setCondition('RevisionInstalled', 'False', 'WaitingForExternalInstall', message);
    return working('WaitingForExternalInstall', message);
  }

  // istioctl: one install Job. helm: the base chart (CRDs) first, then the new istiod release.
  const ctx = helmContext(draft);
  const jobs =
    spec.installer.mode === 'helm'
      ? [installBaseJob(ctx), installIstiodJob(ctx, to, false)]
      : [installerJob(draft.upgrade.metadata, spec, { purpose: 'install', revision: to, istioNamespace: observed.istioNamespace, allowedImages: observed.allowedInstallerImages })];
  for (const action of jobs) {
    const step = driveJob(draft, action, { reason: 'Installing', doing: `installing revision ${to}`, failure: 'InstallFailed' });
    if (step === undefined) continue;
    if (step.kind === 'wait') draft.setCondition('RevisionInstalled', 'False', 'Installing', step.hold.message);
    return step;
  }
  const job = findJob(observed.jobs, jobs[jobs.length - 1]?.jobName ?? '');
  if (revision?.ready === true) return installed('Installed', `installed by Job ${job?.name ?? '?'}`);

  const timeoutMs = parseDuration(spec.rollout.workloadTimeout);
  const doneMs = job?.completedAt === undefined ? draft.nowMs : Date.parse(job.completedAt);
  if (draft.nowMs - doneMs > timeoutMs) {
    return fail('InstallFailed', `istiod-${to} is ${revision === undefined ? 'missing' : 'not Ready'} ${spec.rollout.workloadTimeout} after Job ${job?.name ?? '?'} succeeded`);
  }
  return working('Installing', `Job ${job?.name ?? '?'} succeeded; waiting for istiod-${to} to become Ready`);
}
