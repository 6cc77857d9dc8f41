// Builds the revision-tag objects as `istioctl tag set <tag> --revision <rev>` does (istioctl/pkg/tag/generate.go
// with the istio-discovery chart's revision-tags-mwc.yaml and revision-tags-svc.yaml and, for the "default"
// tag, the default chart's istiod-default-validator). Like `tag set` (UserManaged), every label containing
// "operator.istio.io" is dropped: `istioctl install` prunes objects carrying its owner labels that are not in
// its manifest, and `istioctl uninstall --revision` deletes objects with a component label. Pure: the input is
// the revision's own ("canonical") injector configuration as observed.
import type { LabelSelector } from '../api/schema.ts';
import { DEFAULT_ISTIO_NAMESPACE, DEFAULT_TAG, ISTIO_REV_LABEL, ISTIO_TAG_LABEL, SIDECAR_INJECT_LABEL } from '../api/constants.ts';
import { INJECTOR_ENTRY_SUFFIX, isInjectorEntry } from './injection.ts';
import type { WebhookConfiguration } from './observed.ts';
import { DEFAULT_REVISION } from './tags.ts';

export const DEFAULT_VALIDATOR_NAME = 'istiod-default-validator';
/** Labels with this in their key mark objects istioctl install/uninstall consider theirs. */
const OPERATOR_LABEL_MARK = 'operator.istio.io';

export interface MutatingWebhook {
  name: string;
  clientConfig: {
    service?: { name: string; namespace: string; path: string; port: number };
    url?: string;
    caBundle?: string;
  };
  sideEffects: 'None';
  rules: { operations: string[]; apiGroups: string[]; apiVersions: string[]; resources: string[] }[];
  failurePolicy: 'Fail';
  reinvocationPolicy: string;
  admissionReviewVersions: string[];
  namespaceSelector: LabelSelector;
  objectSelector: LabelSelector;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface MutatingWebhookConfigurationObject {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'MutatingWebhookConfiguration';
  metadata: ObjectMeta;
  webhooks: MutatingWebhook[];
}

export interface ValidatingWebhookConfigurationObject {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingWebhookConfiguration';
  metadata: ObjectMeta;
  webhooks: {
    name: string;
    clientConfig: { service?: { name: string; namespace: string; path: string }; url?: string; caBundle?: string };
    rules: { operations: string[]; apiGroups: string[]; apiVersions: string[]; resources: string[] }[];
    failurePolicy?: string;
    sideEffects: 'None';
    admissionReviewVersions: string[];
    objectSelector: LabelSelector;
  }[];
}

export interface ServiceObject {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta & { namespace: string };
  spec: {
    ports: { port: number; name: string; protocol: 'TCP'; targetPort?: number }[];
    selector: Record<string, string>;
  };
}

/** Everything `istioctl tag set` writes for one tag. */
export interface TagWebhook {
  readonly mutating: MutatingWebhookConfigurationObject;
  /** Only for the "default" tag: the cluster-wide Istio config validator follows the default revision. */
  readonly validating: ValidatingWebhookConfigurationObject | undefined;
  readonly service: ServiceObject;
}

export type TagWebhookResult = { readonly ok: true; readonly webhook: TagWebhook } | { readonly ok: false; readonly reason: string };

/** The Service a tag's webhooks call (istioctl's name for it). */
export function tagServiceName(tag: string): string {
  return `istiod-revision-tag-${tag}`;
}

export function tagWebhookName(tag: string, istioNamespace: string): string {
  return istioNamespace === DEFAULT_ISTIO_NAMESPACE ? `istio-revision-tag-${tag}` : `istio-revision-tag-${tag}-${istioNamespace}`;
}

const notDisabled = { key: SIDECAR_INJECT_LABEL, operator: 'NotIn' as const, values: ['false'] };

/** The selectors of revision-tags-mwc.yaml (and of a revision's own mutatingwebhook.yaml, for its name), in their order. */
export function selectorsFor(tag: string, autoInject: boolean): { prefix: string; namespaceSelector: LabelSelector; objectSelector: LabelSelector }[] {
  const tagged = [
    {
      prefix: 'rev.namespace.',
      namespaceSelector: { matchExpressions: [{ key: ISTIO_REV_LABEL, operator: 'In' as const, values: [tag] }, { key: 'istio-injection', operator: 'DoesNotExist' as const }] },
      objectSelector: { matchExpressions: [notDisabled] },
    },
    {
      prefix: 'rev.object.',
      namespaceSelector: { matchExpressions: [{ key: ISTIO_REV_LABEL, operator: 'DoesNotExist' as const }, { key: 'istio-injection', operator: 'DoesNotExist' as const }] },
      objectSelector: { matchExpressions: [notDisabled, { key: ISTIO_REV_LABEL, operator: 'In' as const, values: [tag] }] },
    },
  ];
  if (tag !== DEFAULT_TAG) return tagged;
  // The default tag also serves the legacy `istio-injection=enabled` and `sidecar.istio.io/inject=true` selectors.
  const legacy = [
    ...tagged,
    {
      prefix: 'namespace.',
      namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In' as const, values: ['enabled'] }] },
      objectSelector: { matchExpressions: [notDisabled] },
    },
    {
      prefix: 'object.',
      namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'DoesNotExist' as const }, { key: ISTIO_REV_LABEL, operator: 'DoesNotExist' as const }] },
      objectSelector: { matchExpressions: [{ key: SIDECAR_INJECT_LABEL, operator: 'In' as const, values: ['true'] }, { key: ISTIO_REV_LABEL, operator: 'DoesNotExist' as const }] },
    },
  ];
  if (!autoInject) return legacy;
  return [
    ...legacy,
    {
      prefix: 'auto.',
      namespaceSelector: {
        matchExpressions: [
          { key: 'istio-injection', operator: 'DoesNotExist' as const },
          { key: ISTIO_REV_LABEL, operator: 'DoesNotExist' as const },
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn' as const, values: ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'] },
        ],
      },
      objectSelector: { matchExpressions: [{ key: SIDECAR_INJECT_LABEL, operator: 'DoesNotExist' as const }, { key: ISTIO_REV_LABEL, operator: 'DoesNotExist' as const }] },
    },
  ];
}

function withoutOperatorLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !k.includes(OPERATOR_LABEL_MARK)));
}

export interface TagWebhookInput {
  readonly tag: string;
  readonly revision: string;
  readonly istioNamespace: string;
  readonly canonical: WebhookConfiguration;
  /** The current default validator, whose failurePolicy istiod manages and must be kept. */
  readonly existingValidator: WebhookConfiguration | undefined;
  /** Keep the `auto.` entry (enableNamespacesByDefault / --auto-inject-namespaces) when the tag has it today. */
  readonly autoInject: boolean;
}

export function buildTagWebhook(input: TagWebhookInput): TagWebhookResult {
  const { tag, revision, istioNamespace, canonical } = input;
  const injector = canonical.webhooks.find(isInjectorEntry);
  if (injector === undefined) return { ok: false, reason: `no sidecar-injector entry in the injector webhook "${canonical.name}" of revision ${revision}` };
  const canonicalRevision = canonical.labels[ISTIO_REV_LABEL];
  if (canonicalRevision !== revision) return { ok: false, reason: `injector webhook "${canonical.name}" belongs to revision "${canonicalRevision ?? ''}", not "${revision}"` };
  // istioctl renders the "default" revision with an empty revision (Service "istiod").
  const renderedRevision = revision === DEFAULT_REVISION ? '' : revision;
  // The Service comes from the revision's own injector (e.g. istiod-remote), as `tag set` takes it.
  const serviceName = injector.clientConfig.service?.name ?? (renderedRevision === '' ? 'istiod' : `istiod-${renderedRevision}`);
  const caBundle = injector.clientConfig.caBundle;
  const url = injector.clientConfig.url;
  const path = injector.clientConfig.service?.path ?? '';
  // Labels of the canonical webhook, except "app", go over the chart's (tagWebhookConfigFromCanonicalWebhook).
  const inherited = Object.fromEntries(Object.entries(canonical.labels).filter(([k]) => k !== 'app'));
  const revisionLabel = renderedRevision || DEFAULT_REVISION;

  const webhooks: MutatingWebhook[] = selectorsFor(tag, input.autoInject).map(({ prefix, namespaceSelector, objectSelector }) => ({
    name: `${prefix}${INJECTOR_ENTRY_SUFFIX}`,
    clientConfig: {
      ...(url !== undefined && url !== '' ? { url } : { service: { name: serviceName, namespace: istioNamespace, path, port: 443 } }),
      ...(caBundle === undefined ? {} : { caBundle }),
    },
    sideEffects: 'None',
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    failurePolicy: 'Fail',
    reinvocationPolicy: injector.reinvocationPolicy ?? 'Never',
    admissionReviewVersions: ['v1'],
    namespaceSelector,
    objectSelector,
  }));

  const mutating: MutatingWebhookConfigurationObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: tagWebhookName(tag, istioNamespace),
      labels: withoutOperatorLabels({
        [ISTIO_TAG_LABEL]: tag,
        [ISTIO_REV_LABEL]: revisionLabel,
        app: 'sidecar-injector',
        'app.kubernetes.io/name': 'istiod',
        'app.kubernetes.io/part-of': 'istio',
        ...inherited,
      }),
      ...(Object.keys(canonical.annotations).length > 0 ? { annotations: { ...canonical.annotations } } : {}),
    },
    webhooks,
  };

  const service: ServiceObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: tagServiceName(tag),
      namespace: istioNamespace,
      labels: {
        [ISTIO_REV_LABEL]: revisionLabel,
        [ISTIO_TAG_LABEL]: tag,
        app: 'istiod',
        istio: 'pilot',
        'app.kubernetes.io/name': 'istiod',
        'app.kubernetes.io/part-of': 'istio',
      },
    },
    spec: {
      ports: [
        { port: 15010, name: 'grpc-xds', protocol: 'TCP' },
        { port: 15012, name: 'https-dns', protocol: 'TCP' },
        { port: 443, name: 'https-webhook', targetPort: 15017, protocol: 'TCP' },
        { port: 15014, name: 'http-monitoring', protocol: 'TCP' },
      ],
      selector: renderedRevision === '' ? { app: 'istiod', istio: 'pilot' } : { app: 'istiod', [ISTIO_REV_LABEL]: renderedRevision },
    },
  };

  const validating = tag === DEFAULT_TAG ? buildDefaultValidator(input, serviceName, revisionLabel, inherited) : undefined;
  return { ok: true, webhook: { mutating, validating, service } };
}

function buildDefaultValidator(
  input: TagWebhookInput,
  serviceName: string,
  revisionLabel: string,
  inherited: Record<string, string>,
): ValidatingWebhookConfigurationObject {
  const injector = input.canonical.webhooks.find(isInjectorEntry);
  const url = injector?.clientConfig.url;
  const caBundle = injector?.clientConfig.caBundle;
  // istiod flips failurePolicy to Fail once it serves; keep what the live validator has (fixWhConfig).
  const existingPolicy = input.existingValidator?.webhooks.find((w) => w.name === 'validation.istio.io')?.failurePolicy;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: {
      name: DEFAULT_VALIDATOR_NAME,
      labels: withoutOperatorLabels({
        app: 'istiod',
        istio: 'istiod',
        [ISTIO_REV_LABEL]: revisionLabel,
        [ISTIO_TAG_LABEL]: DEFAULT_TAG,
        'app.kubernetes.io/name': 'istiod',
        'app.kubernetes.io/part-of': 'istio',
        ...inherited,
      }),
    },
    webhooks: [
      {
        name: 'validation.istio.io',
        clientConfig: {
          ...(url !== undefined && url !== ''
            ? { url: replaceUrlPath(url, '/validate') }
            : { service: { name: serviceName, namespace: input.istioNamespace, path: '/validate' } }),
          ...(caBundle === undefined ? {} : { caBundle }),
        },
        rules: [
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: ['security.istio.io', 'networking.istio.io', 'telemetry.istio.io', 'extensions.istio.io'],
            apiVersions: ['*'],
            resources: ['*'],
          },
        ],
        failurePolicy: existingPolicy ?? 'Ignore',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        // Objects labelled with a revision are validated by that revision's own validator.
        objectSelector: { matchExpressions: [{ key: ISTIO_REV_LABEL, operator: 'DoesNotExist' }] },
      },
    ],
  };
}

function replaceUrlPath(url: string, path: string): string {
  const match = /^(https?:\/\/[^/]+)/.exec(url);
  return match === null ? url : `${match[1] ?? ''}${path}`;
}

/** The tag configuration as the planner observes it once written (for the injection view and the fake mesh). */
export function asObserved(object: MutatingWebhookConfigurationObject): WebhookConfiguration {
  return {
    name: object.metadata.name,
    labels: object.metadata.labels,
    annotations: object.metadata.annotations ?? {},
    webhooks: object.webhooks.map((w) => ({
      name: w.name,
      clientConfig: w.clientConfig,
      reinvocationPolicy: w.reinvocationPolicy,
      failurePolicy: w.failurePolicy,
      namespaceSelector: w.namespaceSelector,
      objectSelector: w.objectSelector,
    })),
  };
}
