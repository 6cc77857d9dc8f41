// Drives one installer Job to its end: create it, wait for it, fail with its output. Shared by every step that
// runs a sequence of Jobs (helm mode runs one helm command per Job).
import type { RunInstallerJob } from './actions.ts';
import type { Draft } from './draft.ts';
import { findJob } from './installer-jobs.ts';
import type { Reason } from './reasons.ts';
import { fail, working, type StepOutcome } from './step.ts';

export interface JobStepText {
  /** Progress reason while the Job is created and runs. */
  readonly reason: Reason;
  /** What the Job does, e.g. "installing release istiod-1-31-0". */
  readonly doing: string;
  readonly failure: Reason;
}

/** Undefined once the Job has succeeded; else the outcome that starts it, waits for it or fails. */
export function driveJob(draft: Draft, action: RunInstallerJob, text: JobStepText): StepOutcome | undefined {
  const job = findJob(draft.observed.jobs, action.jobName);
  const command = `${action.tool} ${action.args.join(' ')}`;
  if (job === undefined) return working(text.reason, `${text.doing}: \`${command}\` (Job ${action.jobName})`, [action]);
  if (job.outcome === 'Running') return working(text.reason, `${text.doing}: waiting for Job ${job.name}`);
  if (job.outcome === 'Failed') return fail(text.failure, `${text.doing} failed (Job ${job.name}, \`${command}\`): ${job.message ?? 'no output'}`);
  return undefined;
}
