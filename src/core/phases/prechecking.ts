// Prechecking: refuse anything that would leave the mesh worse off, before touching the cluster. The plan
// (waves, skipped workloads, blockers) is written to the status on every pass of this phase, so it is there
// before the first action (the istioctl precheck Job, or helm mode's --dry-run Jobs).
import type { Draft } from '../draft.ts';
import { findJob, installerJob } from '../installer-jobs.ts';
import { previewPlan } from '../plan-preview.ts';
import { adoptable, resolvePrecheckContext } from '../prechecks/index.ts';
import type { RunInstallerJob } from '../actions.ts';
import { gatewayReleases, helmContext, installIstiodJob, setRevisionTagsJob, upgradeGatewayJob } from '../helm-jobs.ts';
import { istiodRelease, tagsOwnedBy } from '../helm-release.ts';
import { driveJob } from '../job-step.ts';
import { fail, next, working, type StepOutcome } from '../step.ts';
import { PRECHECK_TARGET } from '../soak.ts';
import { formatVersion } from '../version.ts';

export function prechecking(draft: Draft): StepOutcome {
  const { spec, observed } = draft;
  const preview = previewPlan(draft);
  draft.status.plan = preview.plan;
  if (preview.refusal !== undefined) return fail(preview.refusal.reason, preview.refusal.message);
  const resolution = resolvePrecheckContext(draft);
  if (!resolution.ok) return fail(resolution.finding.reason, resolution.finding.message);
  const ctx = resolution.context;
  draft.status.fromRevision = ctx.from;
  draft.status.toRevision = ctx.to;
  draft.status.fromVersion = formatVersion(ctx.fromVersion);
  if (adoptable(ctx)) draft.status.adoptedRevision = true;
  else delete draft.status.adoptedRevision;

  if (spec.installer.mode === 'istioctl' && spec.precheck.istioctl) {
    const action = installerJob(draft.upgrade.metadata, spec, {
      purpose: 'precheck',
      revision: ctx.to,
      istioNamespace: observed.istioNamespace,
      fromMinor: `${ctx.fromVersion.major}.${ctx.fromVersion.minor}`,
      allowedImages: observed.allowedInstallerImages,
    });
    const job = findJob(observed.jobs, action.jobName);
    if (job === undefined) return working('RunningPrecheck', `running \`istioctl ${action.args.join(' ')}\` (Job ${action.jobName})`, [action]);
    if (job.outcome === 'Running') return working('RunningPrecheck', `waiting for \`istioctl x precheck\` (Job ${job.name})`);
    if (job.outcome === 'Failed') return fail('PrecheckFailed', `istioctl x precheck failed (Job ${job.name}): ${job.message ?? 'no output'}`);
  }

  if (spec.installer.mode === 'helm') {
    const dryRuns = helmDryRuns(draft, ctx.from);
    for (const action of dryRuns) {
      const step = driveJob(draft, action, { reason: 'RunningPrecheck', doing: 'checking the helm commands of this upgrade (--dry-run)', failure: 'PrecheckFailed' });
      if (step !== undefined) return step;
    }
  }

  if (spec.soak.prometheus !== undefined && observed.metrics?.target === PRECHECK_TARGET && observed.metrics.readings.every((r) => r.kind !== 'error' && r.kind !== 'invalid')) {
    draft.status.queriesChecked = true;
  }
  for (const warning of preview.warnings) draft.event('Warning', 'PrecheckWarning', warning.message);
  const blockers = preview.plan.blockerCount ?? 0;
  const summary = [
    `${formatVersion(ctx.fromVersion)} (${ctx.from}) -> ${spec.version} (${ctx.to}) allowed${draft.status.adoptedRevision === true ? `; adopting existing Ready revision ${ctx.to}` : ''}`,
    ...preview.warnings.map((w) => w.message),
    ...(blockers > 0 ? [`${blockers} thing(s) keep revision ${ctx.from} in use and will hold the uninstall (status.plan.blockers)`] : []),
  ].join('; ');
  draft.setCondition('PrecheckPassed', 'True', 'PrecheckPassed', summary);
  return next('Installing', summary);
}

/**
 * Helm mode's precheck Jobs, one after the other: the new istiod release, the old release giving the tag up, and
 * each gateway release's upgrade, all as `--dry-run`. Helm itself then says whether the repository has the charts,
 * whether a release is pending (another operation in progress) and whether the values render.
 */
function helmDryRuns(draft: Draft, from: string): RunInstallerJob[] {
  const ctx = helmContext(draft);
  const old = istiodRelease(draft.observed.revisions.find((r) => r.revision === from));
  const remaining = old === undefined ? [] : tagsOwnedBy(draft.observed.mutatingWebhooks, old.release).filter((t) => t !== draft.spec.tag);
  return [
    installIstiodJob(ctx, draft.toRevision, true),
    ...(old === undefined ? [] : [setRevisionTagsJob(ctx, 'precheck-old', old, remaining)]),
    ...gatewayReleases(draft.spec).map((g) => upgradeGatewayJob(ctx, g, true)),
  ];
}
