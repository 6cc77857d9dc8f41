// Revision tags as the cluster defines them: a tag is a MutatingWebhookConfiguration labelled istio.io/tag, and
// sends pods to the revision in its istio.io/rev label. A revision's own injector is its "canonical" webhook.
// A non-revisioned control plane (Deployment `istiod`, webhook `istio-sidecar-injector`) is revision "default";
// while no `default` tag exists, its injector plays the default tag's part (it serves the same selectors).
import { DEFAULT_TAG, ISTIO_REV_LABEL, ISTIO_TAG_LABEL } from '../api/constants.ts';
import { isDeactivated, isInjectorEntry } from './injection.ts';
import type { ObservedState, WebhookConfiguration, WebhookEntry } from './observed.ts';

/** The revision name of a non-revisioned control plane (its objects are labelled istio.io/rev=default). */
export const DEFAULT_REVISION = 'default';

export function tagConfig(webhooks: readonly WebhookConfiguration[], tag: string): WebhookConfiguration | undefined {
  return webhooks.find((w) => w.labels[ISTIO_TAG_LABEL] === tag);
}

/** The revision's own injector: labelled with the revision, not a tag, and unique. */
export function findCanonicalWebhook(webhooks: readonly WebhookConfiguration[], revision: string): WebhookConfiguration | undefined {
  const matches = webhooks.filter((w) => w.labels[ISTIO_REV_LABEL] === revision && w.labels[ISTIO_TAG_LABEL] === undefined && w.webhooks.some(isInjectorEntry));
  return matches.length === 1 ? matches[0] : undefined;
}

/** The Service the revision's own injector calls (istiod-<rev>, istiod, or e.g. istiod-remote). */
export function revisionServiceName(webhooks: readonly WebhookConfiguration[], revision: string): string | undefined {
  const canonical = findCanonicalWebhook(webhooks, revision);
  const injector = canonical?.webhooks.find(isInjectorEntry);
  return injector?.clientConfig.service?.name;
}

export type TagResolution =
  /** A tag webhook exists. */
  | { readonly kind: 'tag'; readonly config: WebhookConfiguration; readonly revision: string | undefined }
  /** No `default` tag, but an active non-revisioned injector does its job: revision "default". */
  | { readonly kind: 'implicitDefault'; readonly injector: WebhookConfiguration; readonly revision: typeof DEFAULT_REVISION }
  | { readonly kind: 'missing' };

/** The active non-revisioned injector, when there is one (istio-sidecar-injector, not deactivated). */
export function activeNonRevisionedInjector(observed: Pick<ObservedState, 'mutatingWebhooks'>): WebhookConfiguration | undefined {
  const injector = findCanonicalWebhook(observed.mutatingWebhooks, DEFAULT_REVISION);
  return injector !== undefined && !isDeactivated(injector) ? injector : undefined;
}

export function resolveTag(observed: Pick<ObservedState, 'mutatingWebhooks'>, tag: string): TagResolution {
  const config = tagConfig(observed.mutatingWebhooks, tag);
  if (config !== undefined) return { kind: 'tag', config, revision: config.labels[ISTIO_REV_LABEL] };
  if (tag === DEFAULT_TAG) {
    const injector = activeNonRevisionedInjector(observed);
    if (injector !== undefined) return { kind: 'implicitDefault', injector, revision: DEFAULT_REVISION };
  }
  return { kind: 'missing' };
}

/**
 * Which revision a tag's configuration sends pods to, and whether every entry agrees: each entry that `entries`
 * selects (by default the injector entries) calls the Service of that revision's own injector (a URL-based
 * remote injector counts as agreeing).
 */
export function tagTarget(config: WebhookConfiguration, webhooks: readonly WebhookConfiguration[], entries: (entry: WebhookEntry) => boolean = isInjectorEntry): { revision: string | undefined; consistent: boolean } {
  const revision = config.labels[ISTIO_REV_LABEL];
  if (revision === undefined) return { revision, consistent: false };
  const expected = revisionServiceName(webhooks, revision) ?? (revision === DEFAULT_REVISION ? 'istiod' : `istiod-${revision}`);
  const consistent = config.webhooks.filter(entries).every((w) => w.clientConfig.url !== undefined || w.clientConfig.service?.name === expected);
  return { revision, consistent };
}
