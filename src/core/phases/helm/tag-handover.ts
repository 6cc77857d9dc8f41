// Moves a revision tag from one istiod release's revisionTags to another's without a moment where the tag is
// missing: its objects are first marked helm.sh/resource-policy=keep (so the giving release's upgrade skips
// deleting them, pkg/kube/client.go), the taking release adopts them (--take-ownership) and points them at its
// revision, the giving release drops the tag, and the mark goes. Each step is a Job or a patch found again after
// a crash; the caller gates the handover on the taking revision being Ready.
import type { SetTagResourcePolicy } from '../../actions.ts';
import type { Draft } from '../../draft.ts';
import { helmContext, setRevisionTagsJob, type ReleaseAt } from '../../helm-jobs.ts';
import { fullyKept, keptByPolicy, tagObjects, tagsOwnedBy, type TagObjects } from '../../helm-release.ts';
import { driveJob } from '../../job-step.ts';
import type { Reason } from '../../reasons.ts';
import { REQUEUE, fail, working, type StepOutcome } from '../../step.ts';

export interface TagHandover {
  readonly tag: string;
  readonly giver: ReleaseAt;
  readonly taker: ReleaseAt;
  readonly takeJob: 'tag-new' | 'rollback-tag-old';
  readonly giveJob: 'tag-old' | 'rollback-tag-new';
  readonly reason: Reason;
  readonly failure: Reason;
}

export function resourcePolicy(draft: Draft, tag: string, objects: TagObjects, keep: boolean): SetTagResourcePolicy {
  return { type: 'setTagResourcePolicy', tag, webhookName: objects.webhook.name, serviceName: objects.service?.name, namespace: draft.observed.istioNamespace, keep };
}

/** Undefined once the taker renders the tag and the keep marks are gone; else the next step. */
export function handOverTag(draft: Draft, handover: TagHandover): StepOutcome | undefined {
  const { tag, giver, taker } = handover;
  const objects = tagObjects(draft.observed, tag);
  if (objects === undefined) return fail(handover.failure, `the injector webhook of tag "${tag}" disappeared while Helm moved it from release ${giver.release} to ${taker.release}`);
  const { mutatingWebhooks, jobs } = draft.observed;
  const ctx = helmContext(draft);
  const takerTags = [...new Set([...tagsOwnedBy(mutatingWebhooks, taker.release), tag])].sort();
  const giverTags = tagsOwnedBy(mutatingWebhooks, giver.release).filter((t) => t !== tag);
  const take = setRevisionTagsJob(ctx, handover.takeJob, taker, takerTags);
  const give = setRevisionTagsJob(ctx, handover.giveJob, giver, giverTags);
  const giveStarted = jobs.some((j) => j.name === give.jobName);
  if (!giveStarted && !fullyKept(objects)) {
    return working('ProtectingTag', `marking the objects of tag "${tag}" helm.sh/resource-policy=keep while release ${giver.release} hands it to ${taker.release}`, [resourcePolicy(draft, tag, objects, true)], REQUEUE.soon);
  }
  const taking = driveJob(draft, take, { reason: handover.reason, doing: `release ${taker.release} takes tag "${tag}" over (revisionTags)`, failure: handover.failure });
  if (taking !== undefined) return taking;
  const giving = driveJob(draft, give, { reason: handover.reason, doing: `release ${giver.release} gives tag "${tag}" up (revisionTags)`, failure: handover.failure });
  if (giving !== undefined) return giving;
  if (keptByPolicy(objects)) return working(handover.reason, `release ${taker.release} renders tag "${tag}"; removing the helm.sh/resource-policy=keep marks`, [resourcePolicy(draft, tag, objects, false)], REQUEUE.soon);
  return undefined;
}
