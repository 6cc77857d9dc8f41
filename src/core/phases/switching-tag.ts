// SwitchingTag: point the revision tag at the new revision, only once its istiod is Ready, so new pods are
// never sent to a webhook that cannot answer.
import { ISTIO_TAG_LABEL } from '../../api/constants.ts';
import type { Draft } from '../draft.ts';
import { SHORT_REQUEUE_MS, fail, next, working, type StepOutcome } from '../step.ts';
import { DEFAULT_VALIDATOR_NAME, buildTagWebhook, findCanonicalWebhook, tagTarget } from '../tag-webhook.ts';

export function tagPointsAt(draft: Draft, revision: string): boolean {
  const tag = draft.observed.mutatingWebhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === draft.spec.tag);
  if (tag === undefined) return false;
  const target = tagTarget(tag);
  return target.revision === revision && target.consistent;
}

/** The action that makes the tag send pods to `revision`, or a reason it cannot yet. */
export function moveTag(draft: Draft, revision: string): { ok: true; step: StepOutcome } | { ok: false; reason: string } {
  const { observed, spec } = draft;
  const state = observed.revisions.find((r) => r.revision === revision);
  if (state?.ready !== true) return { ok: false, reason: `istiod-${revision} is not Ready` };
  const canonical = findCanonicalWebhook(observed.mutatingWebhooks, revision);
  if (canonical === undefined) return { ok: false, reason: `the injector webhook of revision ${revision} was not found (or is not unique)` };
  const webhook = buildTagWebhook({
    tag: spec.tag,
    revision,
    istioNamespace: observed.istioNamespace,
    canonical,
    existingValidator: observed.validatingWebhooks.find((w) => w.name === DEFAULT_VALIDATOR_NAME),
  });
  return {
    ok: true,
    step: working('SwitchingTag', `moving tag "${spec.tag}" to revision ${revision}`, [{ type: 'applyTagWebhook', tag: spec.tag, revision, webhook }], SHORT_REQUEUE_MS),
  };
}

export function switchingTag(draft: Draft): StepOutcome {
  const to = draft.toRevision;
  if (tagPointsAt(draft, to)) {
    draft.setCondition('TagSwitched', 'True', 'TagSwitched', `tag "${draft.spec.tag}" points at revision ${to}`);
    return next('UpgradingGateways', `tag "${draft.spec.tag}" now points at ${to}`);
  }
  const move = moveTag(draft, to);
  if (!move.ok) {
    const revision = draft.observed.revisions.find((r) => r.revision === to);
    if (revision === undefined) return fail('RevisionLost', `istiod-${to} disappeared before the tag switch`);
    draft.setCondition('TagSwitched', 'False', 'WaitingForRevision', move.reason);
    return working('WaitingForRevision', `not switching tag "${draft.spec.tag}": ${move.reason}`);
  }
  draft.setCondition('TagSwitched', 'False', 'Switching', `moving tag "${draft.spec.tag}" to revision ${to}`);
  return move.step;
}
