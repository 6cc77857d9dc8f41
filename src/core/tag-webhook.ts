// Builds the revision-tag objects exactly as `istioctl tag generate <tag> --revision <rev>` does
// (istioctl/pkg/tag/generate.go with the istio-discovery chart's revision-tags-mwc.yaml and, for the
// "default" tag, the base chart's istiod-default-validator). Pure: input is the revision's own
// ("canonical") injector webhook configuration as observed.
import type { LabelSelector } from '../api/schema.ts';
import { DEFAULT_TAG, ISTIO_REV_LABEL, ISTIO_TAG_LABEL } from '../api/constants.ts';
import type { WebhookConfiguration } from './observed.ts';

const INJECTION_WEBHOOK_SUFFIX = 'sidecar-injector.istio.io';
export const DEFAULT_VALIDATOR_NAME = 'istiod-default-validator';

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

/** Everything `istioctl tag generate` emits for one tag. */
export interface TagWebhook {
  readonly mutating: MutatingWebhookConfigurationObject;
  /** Only for the "default" tag: the cluster-wide Istio config validator follows the default revision. */
  readonly validating: ValidatingWebhookConfigurationObject | undefined;
  readonly service: ServiceObject;
}

export class TagWebhookError extends Error {
  override readonly name = 'TagWebhookError';
}

export function tagWebhookName(tag: string, istioNamespace: string): string {
  return istioNamespace === 'istio-system' ? `istio-revision-tag-${tag}` : `istio-revision-tag-${tag}-${istioNamespace}`;
}

/** The revision's own injector configuration: labelled with the revision and not a tag. */
export function findCanonicalWebhook(
  webhooks: readonly WebhookConfiguration[],
  revision: string,
): WebhookConfiguration | undefined {
  const matches = webhooks.filter((w) => w.labels[ISTIO_REV_LABEL] === revision && w.labels[ISTIO_TAG_LABEL] === undefined);
  return matches.length === 1 ? matches[0] : undefined;
}

const notDisabled = { key: 'sidecar.istio.io/inject', operator: 'NotIn' as const, values: ['false'] };

function selectorsFor(tag: string): { prefix: string; namespaceSelector: LabelSelector; objectSelector: LabelSelector }[] {
  const tagged = [
    {
      prefix: 'rev.namespace.',
      namespaceSelector: {
        matchExpressions: [
          { key: ISTIO_REV_LABEL, operator: 'In' as const, values: [tag] },
          { key: 'istio-injection', operator: 'DoesNotExist' as const },
        ],
      },
      objectSelector: { matchExpressions: [notDisabled] },
    },
    {
      prefix: 'rev.object.',
      namespaceSelector: {
        matchExpressions: [
          { key: ISTIO_REV_LABEL, operator: 'DoesNotExist' as const },
          { key: 'istio-injection', operator: 'DoesNotExist' as const },
        ],
      },
      objectSelector: { matchExpressions: [notDisabled, { key: ISTIO_REV_LABEL, operator: 'In' as const, values: [tag] }] },
    },
  ];
  if (tag !== DEFAULT_TAG) return tagged;
  // The default tag also serves the legacy `istio-injection=enabled` and `sidecar.istio.io/inject=true` selectors.
  return [
    ...tagged,
    {
      prefix: 'namespace.',
      namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
      objectSelector: { matchExpressions: [notDisabled] },
    },
    {
      prefix: 'object.',
      namespaceSelector: {
        matchExpressions: [
          { key: 'istio-injection', operator: 'DoesNotExist' },
          { key: ISTIO_REV_LABEL, operator: 'DoesNotExist' },
        ],
      },
      objectSelector: {
        matchExpressions: [
          { key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] },
          { key: ISTIO_REV_LABEL, operator: 'DoesNotExist' },
        ],
      },
    },
  ];
}

function chartLabels(revision: string, app: string): Record<string, string> {
  return {
    [ISTIO_REV_LABEL]: revision,
    'install.operator.istio.io/owning-resource': 'unknown',
    'operator.istio.io/component': 'Pilot',
    app,
    release: 'istiod',
    'app.kubernetes.io/name': 'istiod',
    'app.kubernetes.io/part-of': 'istio',
  };
}

export interface TagWebhookInput {
  readonly tag: string;
  readonly revision: string;
  readonly istioNamespace: string;
  readonly canonical: WebhookConfiguration;
  /** The current default validator, whose failurePolicy istiod manages and must be kept. */
  readonly existingValidator: WebhookConfiguration | undefined;
}

export function buildTagWebhook(input: TagWebhookInput): TagWebhook {
  const { tag, revision, istioNamespace, canonical } = input;
  const injector = canonical.webhooks.find((w) => w.name.endsWith(INJECTION_WEBHOOK_SUFFIX));
  if (injector === undefined) {
    throw new TagWebhookError(`could not find sidecar-injector webhook in canonical webhook "${canonical.name}"`);
  }
  const canonicalRevision = canonical.labels[ISTIO_REV_LABEL];
  if (canonicalRevision !== revision) {
    throw new TagWebhookError(`canonical webhook "${canonical.name}" belongs to revision "${canonicalRevision ?? ''}", not "${revision}"`);
  }
  // istioctl renders the "default" revision with an empty revision (service "istiod").
  const renderedRevision = revision === DEFAULT_TAG ? '' : revision;
  const serviceName = injector.clientConfig.service?.name ?? (renderedRevision === '' ? 'istiod' : `istiod-${renderedRevision}`);
  const caBundle = injector.clientConfig.caBundle;
  const url = injector.clientConfig.url;
  const path = injector.clientConfig.service?.path ?? '';
  // Labels of the canonical webhook, except "app", are copied over the chart's (generateLabels).
  const inherited = Object.fromEntries(Object.entries(canonical.labels).filter(([k]) => k !== 'app'));

  const webhooks: MutatingWebhook[] = selectorsFor(tag).map(({ prefix, namespaceSelector, objectSelector }) => ({
    name: `${prefix}${INJECTION_WEBHOOK_SUFFIX}`,
    clientConfig: {
      ...(url !== undefined && url !== ''
        ? { url }
        : { service: { name: serviceName, namespace: istioNamespace, path, port: 443 } }),
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
      labels: { ...chartLabels(renderedRevision || DEFAULT_TAG, 'sidecar-injector'), [ISTIO_TAG_LABEL]: tag, ...inherited },
      ...(Object.keys(canonical.annotations).length > 0 ? { annotations: { ...canonical.annotations } } : {}),
    },
    webhooks,
  };

  const service: ServiceObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `istiod-revision-tag-${tag}`,
      namespace: istioNamespace,
      labels: { ...chartLabels(renderedRevision || DEFAULT_TAG, 'istiod'), [ISTIO_TAG_LABEL]: tag, istio: 'pilot' },
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

  return { mutating, validating: tag === DEFAULT_TAG ? buildDefaultValidator(input, serviceName, inherited) : undefined, service };
}

function buildDefaultValidator(
  input: TagWebhookInput,
  serviceName: string,
  inherited: Record<string, string>,
): ValidatingWebhookConfigurationObject {
  const injector = input.canonical.webhooks.find((w) => w.name.endsWith(INJECTION_WEBHOOK_SUFFIX));
  const url = injector?.clientConfig.url;
  const caBundle = injector?.clientConfig.caBundle;
  // istiod flips failurePolicy to Fail once it serves; keep whatever the live validator has (fixWhConfig).
  const existingPolicy = input.existingValidator?.webhooks.find((w) => w.name === 'validation.istio.io')?.failurePolicy;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: {
      name: DEFAULT_VALIDATOR_NAME,
      labels: { ...chartLabels(input.revision, 'istiod'), istio: 'istiod', ...inherited },
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
      },
    ],
  };
}

function replaceUrlPath(url: string, path: string): string {
  const match = /^(https?:\/\/[^/]+)/.exec(url);
  return match === null ? url : `${match[1] ?? ''}${path}`;
}

/** Which revision a tag's webhook configuration sends pods to, and whether every entry agrees. */
export function tagTarget(webhook: WebhookConfiguration): { revision: string | undefined; consistent: boolean } {
  const revision = webhook.labels[ISTIO_REV_LABEL];
  const expectedService = revision === undefined || revision === DEFAULT_TAG ? 'istiod' : `istiod-${revision}`;
  const consistent = webhook.webhooks.every((w) => w.clientConfig.url !== undefined || w.clientConfig.service?.name === expectedService);
  return { revision, consistent };
}
