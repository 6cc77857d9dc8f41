// Moving a revision tag: only onto a Ready istiod, built from that revision's own injector, keeping what the tag
// has today that `tag set` would drop (its auto-inject entry).
import type { ApplyTagWebhook } from './actions.ts';
import type { Draft } from './draft.ts';
import { DEFAULT_TAG } from '../api/constants.ts';
import { DEFAULT_VALIDATOR_NAME, buildTagWebhook } from './tag-webhook.ts';
import { findCanonicalWebhook, tagConfig, tagTarget } from './tags.ts';

/**
 * Whether every object of the tag sends to `revision`: the tag's injector webhook and, for the default tag, the
 * default validator (written last, so a move cut short between the two is written again, not taken as done).
 */
export function tagPointsAt(draft: Draft, tag: string, revision: string): boolean {
  const { validatingWebhooks, mutatingWebhooks } = draft.observed;
  if (!injectorPointsAt(draft, tag, revision)) return false;
  if (tag !== DEFAULT_TAG) return true;
  const validator = validatingWebhooks.find((w) => w.name === DEFAULT_VALIDATOR_NAME);
  // None at all: nothing calls the old revision for validation (the tag write creates one when it can).
  if (validator === undefined) return true;
  // Every entry of the validator calls istiod (it has no injector entries).
  const validates = tagTarget(validator, mutatingWebhooks, () => true);
  return validates.revision === revision && validates.consistent;
}

/** Whether the tag's injector webhook sends every pod to `revision` (label and service agree). */
export function injectorPointsAt(draft: Pick<Draft, 'observed'>, tag: string, revision: string): boolean {
  const { mutatingWebhooks } = draft.observed;
  const config = tagConfig(mutatingWebhooks, tag);
  if (config === undefined) return false;
  const target = tagTarget(config, mutatingWebhooks);
  return target.revision === revision && target.consistent;
}

export type TagMove = { readonly ok: true; readonly action: ApplyTagWebhook } | { readonly ok: false; readonly reason: string };

/** The action that makes `tag` send pods to `revision`, or why it cannot yet. */
export function moveTag(draft: Draft, tag: string, revision: string): TagMove {
  const { observed } = draft;
  const state = observed.revisions.find((r) => r.revision === revision);
  if (state?.ready !== true) return { ok: false, reason: `the istiod of revision ${revision} is ${state === undefined ? 'missing' : 'not Ready'}` };
  const canonical = findCanonicalWebhook(observed.mutatingWebhooks, revision);
  if (canonical === undefined) return { ok: false, reason: `the injector webhook of revision ${revision} was not found (or is not unique)` };
  const current = tagConfig(observed.mutatingWebhooks, tag);
  const built = buildTagWebhook({
    tag,
    revision,
    istioNamespace: observed.istioNamespace,
    canonical,
    existingValidator: observed.validatingWebhooks.find((w) => w.name === DEFAULT_VALIDATOR_NAME),
    autoInject: current?.webhooks.some((w) => w.name.startsWith('auto.')) ?? false,
  });
  if (!built.ok) return { ok: false, reason: built.reason };
  return { ok: true, action: { type: 'applyTagWebhook', tag, revision, webhook: built.webhook } };
}
