// The injector webhooks as they will be once the upgrade has prepared the mesh. A mesh injected by the
// non-revisioned `istio-sidecar-injector` and no `default` tag is first given an explicit `default` tag that
// points at the same control plane (revision "default"), exactly as `istioctl tag set default --revision default`
// would, and the non-revisioned injector is deactivated: injection does not change, and from then on
// `istioctl install --set revision=<new>` finds a default tag and leaves injection alone
// (operator/pkg/webhook: it creates a default tag for the new revision only when none exists).
import type { IstioUpgradeSpec } from '../api/schema.ts';
import { DEFAULT_TAG } from '../api/constants.ts';
import { deactivated } from './injection.ts';
import type { ObservedState, WebhookConfiguration } from './observed.ts';
import { DEFAULT_VALIDATOR_NAME, asObserved, buildTagWebhook, type TagWebhook } from './tag-webhook.ts';
import { DEFAULT_REVISION, activeNonRevisionedInjector } from './tags.ts';

/** A default tag exists in the sense istioctl install checks (PreviousInstallExists: app=sidecar-injector,istio.io/tag=default). */
export function defaultTagExists(webhooks: readonly WebhookConfiguration[]): boolean {
  return webhooks.some((w) => w.labels.app === 'sidecar-injector' && w.labels['istio.io/tag'] === DEFAULT_TAG);
}

export interface DefaultTagPreparation {
  /** The non-revisioned injector that is deactivated once the tag serves. */
  readonly injector: WebhookConfiguration;
  /** The `default` tag objects, pointing at revision "default". */
  readonly webhook: TagWebhook;
}

/**
 * The default tag the upgrade must create before anything else, if any: when no default tag exists and the
 * non-revisioned injector is active. Needed when this upgrade moves the default tag (it must exist to be moved),
 * and in istioctl mode whatever the tag (the install would otherwise create one for the new revision).
 */
export function defaultTagPreparation(observed: Pick<ObservedState, 'mutatingWebhooks' | 'validatingWebhooks' | 'istioNamespace'>, spec: Pick<IstioUpgradeSpec, 'tag' | 'additionalTags' | 'installer'>): DefaultTagPreparation | undefined {
  if (defaultTagExists(observed.mutatingWebhooks)) return undefined;
  const injector = activeNonRevisionedInjector(observed);
  if (injector === undefined) return undefined;
  const movesDefault = spec.tag === DEFAULT_TAG || spec.additionalTags.includes(DEFAULT_TAG);
  if (!movesDefault && spec.installer.mode !== 'istioctl') return undefined;
  const built = buildTagWebhook({
    tag: DEFAULT_TAG,
    revision: DEFAULT_REVISION,
    istioNamespace: observed.istioNamespace,
    canonical: injector,
    existingValidator: observed.validatingWebhooks.find((w) => w.name === DEFAULT_VALIDATOR_NAME),
    autoInject: injector.webhooks.some((w) => w.name.startsWith('auto.')),
  });
  return built.ok ? { injector, webhook: built.webhook } : undefined;
}

/** The injector webhooks after the preparation (the same selectors, now under the default tag). */
export function injectionView(observed: Pick<ObservedState, 'mutatingWebhooks'>, preparation: DefaultTagPreparation | undefined): WebhookConfiguration[] {
  if (preparation === undefined) return [...observed.mutatingWebhooks];
  const tag = asObserved(preparation.webhook.mutating);
  return [
    ...observed.mutatingWebhooks.filter((w) => w.name !== tag.name).map((w) => (w.name === preparation.injector.name ? deactivated(w) : w)),
    tag,
  ];
}
