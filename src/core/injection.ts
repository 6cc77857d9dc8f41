// Who injects a pod, decided the way the API server and istiod decide it: the API server calls every
// injector webhook entry whose namespaceSelector matches the namespace's labels and whose objectSelector
// matches the pod's labels; istiod then applies its own policy (pkg/kube/inject injectRequired). Nothing
// here looks at label names beyond what the webhooks' selectors and istiod's policy say.
import { ISTIO_REV_LABEL, ISTIO_TAG_LABEL, SIDECAR_INJECT_LABEL } from '../api/constants.ts';
import type { WebhookConfiguration, WebhookEntry } from './observed.ts';
import { matchesSelector } from './selectors.ts';

type Labels = Readonly<Record<string, string>>;

/** Injector entries of Istio webhooks are named `<prefix>sidecar-injector.istio.io`. */
export const INJECTOR_ENTRY_SUFFIX = 'sidecar-injector.istio.io';

/** Namespaces istiod never injects (pkg/kube/inject IgnoredNamespaces). */
export const IGNORED_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'];

export interface InjectorMatch {
  /** The MutatingWebhookConfiguration. */
  readonly config: string;
  /** The webhook entry, e.g. rev.namespace.sidecar-injector.istio.io. */
  readonly entry: string;
  /** The revision the configuration sends pods to (its istio.io/rev label). */
  readonly revision: string | undefined;
  /** Set when the configuration is a revision tag. */
  readonly tag: string | undefined;
}

export function isInjectorEntry(entry: WebhookEntry): boolean {
  return entry.name.endsWith(INJECTOR_ENTRY_SUFFIX);
}

function entryMatches(entry: WebhookEntry, namespaceLabels: Labels, objectLabels: Labels): boolean {
  // An absent selector matches everything (admissionregistration/v1 defaulting).
  return matchesSelector(entry.namespaceSelector ?? {}, namespaceLabels) && matchesSelector(entry.objectSelector ?? {}, objectLabels);
}

/** Every injector entry the API server would call for a pod with these labels in a namespace with these labels. */
export function matchingInjectors(webhooks: readonly WebhookConfiguration[], namespaceLabels: Labels, objectLabels: Labels): InjectorMatch[] {
  const matches: InjectorMatch[] = [];
  for (const config of webhooks) {
    for (const entry of config.webhooks) {
      if (!isInjectorEntry(entry) || !entryMatches(entry, namespaceLabels, objectLabels)) continue;
      matches.push({ config: config.name, entry: entry.name, revision: config.labels[ISTIO_REV_LABEL], tag: config.labels[ISTIO_TAG_LABEL] });
    }
  }
  return matches;
}

export interface PodTemplateFacts {
  readonly namespace: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly hostNetwork: boolean;
}

export type IstiodVerdict = { readonly inject: true } | { readonly inject: false; readonly why: 'HostNetwork' | 'InjectionDisabled' | 'IgnoredNamespace' };

/**
 * istiod's own decision once its webhook is called (pkg/kube/inject injectRequired, with the default policy
 * "enabled" and no never/always-inject selectors): never for hostNetwork pods or the ignored namespaces;
 * `sidecar.istio.io/inject` (the label, when present, wins over the annotation) exactly "false" disables it;
 * "true", empty or any other value injects.
 */
export function istiodWouldInject(pod: PodTemplateFacts): IstiodVerdict {
  if (pod.hostNetwork) return { inject: false, why: 'HostNetwork' };
  if (IGNORED_NAMESPACES.includes(pod.namespace)) return { inject: false, why: 'IgnoredNamespace' };
  const setting = SIDECAR_INJECT_LABEL in pod.labels ? pod.labels[SIDECAR_INJECT_LABEL] : pod.annotations[SIDECAR_INJECT_LABEL];
  if (setting === 'false') return { inject: false, why: 'InjectionDisabled' };
  return { inject: true };
}

/** The configurations (by name) that would inject a new pod of this template, deduplicated. */
export function injectingConfigs(webhooks: readonly WebhookConfiguration[], namespaceLabels: Labels, pod: PodTemplateFacts): InjectorMatch[] {
  if (!istiodWouldInject(pod).inject) return [];
  const seen = new Set<string>();
  return matchingInjectors(webhooks, namespaceLabels, pod.labels).filter((m) => {
    if (seen.has(m.config)) return false;
    seen.add(m.config);
    return true;
  });
}

const DEACTIVATED_LABEL = 'istio.io/deactivated';

/** Selectors that never match, as `istioctl tag set default` writes them (istioctl/pkg/util NeverMatch). */
export const NEVER_MATCH = { matchLabels: { [DEACTIVATED_LABEL]: 'never-match' } };

/** A copy of an injector configuration whose injector entries can never match (what deactivation leaves). */
export function deactivated(config: WebhookConfiguration): WebhookConfiguration {
  return {
    ...config,
    webhooks: config.webhooks.map((e) => (isInjectorEntry(e) ? { ...e, namespaceSelector: NEVER_MATCH, objectSelector: NEVER_MATCH } : e)),
  };
}

/** True when none of the configuration's injector entries can match anything (deactivated by a default tag). */
export function isDeactivated(config: WebhookConfiguration): boolean {
  const injectors = config.webhooks.filter(isInjectorEntry);
  const deactivates = (selector: WebhookEntry['namespaceSelector']) =>
    selector?.matchLabels?.[DEACTIVATED_LABEL] !== undefined || (selector?.matchExpressions ?? []).some((r) => r.key === DEACTIVATED_LABEL);
  return injectors.length > 0 && injectors.every((e) => deactivates(e.namespaceSelector) || deactivates(e.objectSelector));
}
