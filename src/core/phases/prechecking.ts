// Prechecking: refuse anything that would leave the mesh worse off, before touching the cluster. The plan
// (waves, skipped workloads, blockers) is written to the status on every pass of this phase, so it is there
// before the first action (the istioctl precheck Job).
import type { Draft } from '../draft.ts';
import { findJob, installerJob } from '../installer-jobs.ts';
import { previewPlan } from '../plan-preview.ts';
import { adoptable, resolvePrecheckContext } from '../prechecks/index.ts';
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
