// Carries out one planner Action against the API server. Every action is idempotent: Jobs have fixed names
// (AlreadyExists means done), tag objects are server-side applied, restarts are skipped when stamped,
// evictions of pods already gone are done, labels are merged.
import { GRANTED_FOR_ANNOTATION } from '../api/constants.ts';
import type { Action, ApplyTagWebhook, DeactivateInjector, EvictPod, LabelNamespace, RevokeInstallerAccess, RunInstallerJob, SetTagResourcePolicy } from '../core/actions.ts';
import { HELM_RESOURCE_POLICY_ANNOTATION } from '../core/helm-release.ts';
import { TransientError } from '../core/errors.ts';
import { NEVER_MATCH, isInjectorEntry } from '../core/injection.ts';
import type { WorkloadKind } from '../core/observed.ts';
import { bodyMessage, classifyApiError, isAlreadyExists, isNotFound, statusCodeOf } from './api-errors.ts';
import type { KubeClients } from './clients.ts';
import { PATCH_TYPES } from './rest/api-groups.ts';
import { installerBinding, installerJobSpec, overlayConfigMap, type InstallerSettings, type JobOwner } from './installer/job-spec.ts';
import { WORKLOADS } from './workloads/index.ts';

export const FIELD_MANAGER = 'istio-upgrade-operator';

const applyOptions = { contentType: PATCH_TYPES.apply };

export interface ExecuteContext {
  readonly clients: KubeClients;
  readonly installer: InstallerSettings;
  readonly owner: JobOwner;
  /** The resourceVersion the caches hold of a workload: a restart then needs no read first. */
  readonly cachedResourceVersion?: (kind: WorkloadKind, namespace: string, name: string) => string | undefined;
}

/** done: carried out; skipped: already so; refused: the cluster said "not now" (a PodDisruptionBudget). */
export type ExecutionOutcome = 'done' | 'skipped' | 'refused';

async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw classifyApiError(error, what);
  }
}

async function createIgnoringExisting(what: string, request: () => Promise<unknown>): Promise<ExecutionOutcome> {
  try {
    await request();
    return 'done';
  } catch (error) {
    if (isAlreadyExists(error)) return 'skipped';
    throw classifyApiError(error, what);
  }
}

async function runInstallerJob(ctx: ExecuteContext, action: RunInstallerJob): Promise<ExecutionOutcome> {
  const { batch, core, rbac } = ctx.clients;
  const namespace = ctx.installer.namespace;
  // The right to install first: a Job whose pod starts without it fails with Forbidden.
  const binding = installerBinding(action, ctx.owner, ctx.installer);
  const bindingName = binding.metadata?.name ?? '';
  await call(`apply clusterrolebindings ${bindingName}`, () =>
    rbac.patchClusterRoleBinding({ name: bindingName, body: binding, fieldManager: FIELD_MANAGER, force: true }, applyOptions),
  );
  const configMap = overlayConfigMap(action, ctx.owner, ctx.installer);
  if (configMap !== undefined) {
    await createIgnoringExisting(`create configmaps ${namespace}/${action.jobName}`, () => core.createNamespacedConfigMap({ namespace, body: configMap }));
  }
  return createIgnoringExisting(`create jobs ${namespace}/${action.jobName}`, () =>
    batch.createNamespacedJob({ namespace, body: installerJobSpec(action, ctx.owner, ctx.installer) }),
  );
}

const mergeOptions = { contentType: PATCH_TYPES.merge };

/**
 * Labels of istioctl's ownership (operator.istio.io/*, install.operator.istio.io/*) that another field manager
 * set, e.g. `istioctl install` when it created the tag: a server-side apply does not remove fields it does not
 * own, so they are removed with a merge patch, as `istioctl tag set` strips them. Else a later install or
 * uninstall would prune the tag.
 */
function ownerLabelsLeft(object: { metadata?: { labels?: Record<string, string> } }): Record<string, null> | undefined {
  const keys = Object.keys(object.metadata?.labels ?? {}).filter((k) => k.includes('operator.istio.io'));
  return keys.length === 0 ? undefined : Object.fromEntries(keys.map((k) => [k, null]));
}

/** Server-side applies one tag object, then strips the owner labels another manager left on it. */
async function applyStripped(what: string, apply: () => Promise<{ metadata?: { labels?: Record<string, string> } }>, strip: (labels: Record<string, null>) => Promise<unknown>): Promise<void> {
  const applied = await call(`apply ${what}`, apply);
  const left = ownerLabelsLeft(applied);
  if (left !== undefined) await call(`patch ${what}`, () => strip(left));
}

async function applyTagWebhook(ctx: ExecuteContext, action: ApplyTagWebhook): Promise<ExecutionOutcome> {
  const { admission, core } = ctx.clients;
  const { mutating, validating, service } = action.webhook;
  const ssa = { fieldManager: FIELD_MANAGER, force: true };
  const labels = (l: Record<string, null>) => ({ metadata: { labels: l } });
  // The Service first, then the injector, then the validator: the tag only takes effect with the webhook.
  const { name: svc, namespace } = service.metadata;
  await applyStripped(
    `services ${namespace}/${svc}`,
    () => core.patchNamespacedService({ name: svc, namespace, body: service, ...ssa }, applyOptions),
    (l) => core.patchNamespacedService({ name: svc, namespace, body: labels(l) }, mergeOptions),
  );
  const injector = mutating.metadata.name;
  await applyStripped(
    `mutatingwebhookconfigurations ${injector}`,
    () => admission.patchMutatingWebhookConfiguration({ name: injector, body: mutating, ...ssa }, applyOptions),
    (l) => admission.patchMutatingWebhookConfiguration({ name: injector, body: labels(l) }, mergeOptions),
  );
  if (validating !== undefined) {
    const validator = validating.metadata.name;
    await applyStripped(
      `validatingwebhookconfigurations ${validator}`,
      () => admission.patchValidatingWebhookConfiguration({ name: validator, body: validating, ...ssa }, applyOptions),
      (l) => admission.patchValidatingWebhookConfiguration({ name: validator, body: labels(l) }, mergeOptions),
    );
  }
  return 'done';
}

async function deactivateInjector(ctx: ExecuteContext, action: DeactivateInjector): Promise<ExecutionOutcome> {
  const { admission } = ctx.clients;
  const what = `mutatingwebhookconfigurations ${action.name}`;
  let config;
  try {
    config = await admission.readMutatingWebhookConfiguration({ name: action.name });
  } catch (error) {
    if (isNotFound(error)) return 'skipped';
    throw classifyApiError(error, `get ${what}`);
  }
  const webhooks = config.webhooks ?? [];
  const injectors = webhooks.map((w, index) => ({ w, index })).filter(({ w }) => isInjectorEntry({ name: w.name, clientConfig: {} }));
  if (injectors.every(({ w }) => JSON.stringify(w.namespaceSelector) === JSON.stringify(NEVER_MATCH) && JSON.stringify(w.objectSelector) === JSON.stringify(NEVER_MATCH))) return 'skipped';
  // A JSON patch that first tests the resourceVersion read: a concurrent writer makes it fail and the next pass
  // decides again (a conditional write with the `patch` verb the tags need anyway, not `update`).
  const body = [
    { op: 'test', path: '/metadata/resourceVersion', value: config.metadata?.resourceVersion ?? '' },
    ...injectors.flatMap(({ index }) => [
      { op: 'add', path: `/webhooks/${String(index)}/namespaceSelector`, value: NEVER_MATCH },
      { op: 'add', path: `/webhooks/${String(index)}/objectSelector`, value: NEVER_MATCH },
    ]),
  ];
  try {
    await admission.patchMutatingWebhookConfiguration({ name: action.name, body }, { contentType: PATCH_TYPES.json });
  } catch (error) {
    // A failed `test` (the object changed since it was read) is a conflict, not an invalid request: look again.
    const code = statusCodeOf(error);
    if (code === 409 || (code === 422 && /\btest\b/i.test(bodyMessage(error)))) {
      throw new TransientError(`${what} changed while it was being deactivated; reading it again`, { cause: error });
    }
    throw classifyApiError(error, `patch ${what}`);
  }
  return 'done';
}

async function evictPod(ctx: ExecuteContext, action: EvictPod): Promise<ExecutionOutcome> {
  const { namespace, name } = action;
  try {
    await ctx.clients.core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
    return 'done';
  } catch (error) {
    if (isNotFound(error)) return 'skipped';
    // 429: a PodDisruptionBudget does not allow it now; the next pass tries again.
    if (statusCodeOf(error) === 429) return 'refused';
    throw classifyApiError(error, `create pods/eviction ${namespace}/${name}`);
  }
}

/** Deletes the binding only if it is still the one granted for this Job (a newer Job may have been granted it). */
async function revokeInstallerAccess(ctx: ExecuteContext, action: RevokeInstallerAccess): Promise<ExecutionOutcome> {
  const name = ctx.installer.serviceAccount;
  const what = `clusterrolebindings ${name}`;
  let binding;
  try {
    binding = await ctx.clients.rbac.readClusterRoleBinding({ name });
  } catch (error) {
    if (isNotFound(error)) return 'skipped';
    throw classifyApiError(error, `get ${what}`);
  }
  if (binding.metadata?.annotations?.[GRANTED_FOR_ANNOTATION] !== action.jobName) return 'skipped';
  try {
    await ctx.clients.rbac.deleteClusterRoleBinding({ name, body: { preconditions: { resourceVersion: binding.metadata.resourceVersion ?? '' } } });
    return 'done';
  } catch (error) {
    // 409: re-granted since it was read; 404: already gone.
    if (isNotFound(error) || statusCodeOf(error) === 409) return 'skipped';
    throw classifyApiError(error, `delete ${what}`);
  }
}

/** Merge-patches helm.sh/resource-policy on the tag's webhook and Service (null removes it); a missing one is skipped. */
async function setTagResourcePolicy(ctx: ExecuteContext, action: SetTagResourcePolicy): Promise<ExecutionOutcome> {
  const body = { metadata: { annotations: { [HELM_RESOURCE_POLICY_ANNOTATION]: action.keep ? 'keep' : null } } };
  const { admission, core } = ctx.clients;
  const patch = async (what: string, request: () => Promise<unknown>): Promise<void> => {
    try {
      await request();
    } catch (error) {
      if (!isNotFound(error)) throw classifyApiError(error, `patch ${what}`);
    }
  };
  await patch(`mutatingwebhookconfigurations ${action.webhookName}`, () => admission.patchMutatingWebhookConfiguration({ name: action.webhookName, body }, mergeOptions));
  const service = action.serviceName;
  if (service !== undefined) await patch(`services ${action.namespace}/${service}`, () => core.patchNamespacedService({ name: service, namespace: action.namespace, body }, mergeOptions));
  return 'done';
}

async function labelNamespace(ctx: ExecuteContext, action: LabelNamespace): Promise<ExecutionOutcome> {
  await call(`patch namespaces ${action.name}`, () =>
    ctx.clients.core.patchNamespace({ name: action.name, body: { metadata: { labels: action.labels } } }, mergeOptions),
  );
  return 'done';
}

export async function execute(ctx: ExecuteContext, action: Action): Promise<ExecutionOutcome> {
  switch (action.type) {
    case 'runInstallerJob':
      return runInstallerJob(ctx, action);
    case 'applyTagWebhook':
      return applyTagWebhook(ctx, action);
    case 'setTagResourcePolicy':
      return setTagResourcePolicy(ctx, action);
    case 'deactivateInjector':
      return deactivateInjector(ctx, action);
    case 'restartWorkload':
      return WORKLOADS[action.kind].restart(ctx.clients, action.namespace, action.name, action.stamp, action.restartedAt, ctx.cachedResourceVersion?.(action.kind, action.namespace, action.name));
    case 'evictPod':
      return evictPod(ctx, action);
    case 'labelNamespace':
      return labelNamespace(ctx, action);
    case 'revokeInstallerAccess':
      return revokeInstallerAccess(ctx, action);
  }
}

/** One line for logs and Events. */
export function describeAction(action: Action): string {
  switch (action.type) {
    case 'runInstallerJob':
      return `job ${action.jobName}: ${action.args.join(' ')}`;
    case 'applyTagWebhook':
      return `tag ${action.tag} -> ${action.revision}`;
    case 'setTagResourcePolicy':
      return `tag ${action.tag} objects: ${action.keep ? 'set' : 'remove'} ${HELM_RESOURCE_POLICY_ANNOTATION}=keep`;
    case 'deactivateInjector':
      return `deactivate injector ${action.name}`;
    case 'restartWorkload':
      return `${action.kind}/${action.namespace}/${action.name}`;
    case 'evictPod':
      return `evict pod ${action.namespace}/${action.name}`;
    case 'labelNamespace':
      return `label namespace ${action.name} ${Object.entries(action.labels).map(([k, v]) => `${k}=${v}`).join(',')}`;
    case 'revokeInstallerAccess':
      return `revoke installer access granted for job ${action.jobName}`;
  }
}
