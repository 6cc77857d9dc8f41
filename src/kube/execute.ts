// Carries out one planner Action against the API server. Every action is idempotent: Jobs have fixed names
// (AlreadyExists means done), tag objects are server-side applied, restarts are skipped when stamped.
import { PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { RESTARTED_AT_ANNOTATION, RESTARTED_FOR_ANNOTATION } from '../api/constants.ts';
import type { Action, ApplyTagWebhook, RestartWorkload, RunInstallerJob } from '../core/actions.ts';
import { TransientError } from '../core/errors.ts';
import { classifyApiError, isAlreadyExists } from './api-errors.ts';
import type { KubeClients } from './clients.ts';
import { installerJobSpec, overlayConfigMap, type InstallerSettings, type JobOwner } from './installer/job-spec.ts';

export const FIELD_MANAGER = 'istio-upgrade-operator';

export interface ExecuteContext {
  readonly clients: KubeClients;
  readonly installer: InstallerSettings;
  readonly owner: JobOwner;
}

export type ExecutionOutcome = 'done' | 'skipped';

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
  const { batch, core } = ctx.clients;
  const namespace = ctx.installer.namespace;
  const configMap = overlayConfigMap(action, ctx.owner, ctx.installer);
  if (configMap !== undefined) {
    await createIgnoringExisting(`create configmaps ${namespace}/${action.jobName}`, () => core.createNamespacedConfigMap({ namespace, body: configMap }));
  }
  return createIgnoringExisting(`create jobs ${namespace}/${action.jobName}`, () =>
    batch.createNamespacedJob({ namespace, body: installerJobSpec(action, ctx.owner, ctx.installer) }),
  );
}

const applyOptions = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

async function applyTagWebhook(ctx: ExecuteContext, action: ApplyTagWebhook): Promise<ExecutionOutcome> {
  const { admission, core } = ctx.clients;
  const { mutating, validating, service } = action.webhook;
  // The Service first, then the injector, then the validator: the tag only takes effect with the webhook.
  await call(`apply services ${service.metadata.namespace}/${service.metadata.name}`, () =>
    core.patchNamespacedService({ name: service.metadata.name, namespace: service.metadata.namespace, body: service, fieldManager: FIELD_MANAGER, force: true }, applyOptions),
  );
  await call(`apply mutatingwebhookconfigurations ${mutating.metadata.name}`, () =>
    admission.patchMutatingWebhookConfiguration({ name: mutating.metadata.name, body: mutating, fieldManager: FIELD_MANAGER, force: true }, applyOptions),
  );
  if (validating !== undefined) {
    await call(`apply validatingwebhookconfigurations ${validating.metadata.name}`, () =>
      admission.patchValidatingWebhookConfiguration({ name: validating.metadata.name, body: validating, fieldManager: FIELD_MANAGER, force: true }, applyOptions),
    );
  }
  return 'done';
}

interface TemplateHolder extends KubernetesObject {
  spec?: { template: { metadata?: { annotations?: Record<string, string> } } };
}

async function restartWorkload(ctx: ExecuteContext, action: RestartWorkload): Promise<ExecutionOutcome> {
  const { apps } = ctx.clients;
  const { namespace, name } = action;
  const what = `${action.kind.toLowerCase()}s ${namespace}/${name}`;
  const read = (): Promise<TemplateHolder> => {
    switch (action.kind) {
      case 'Deployment':
        return apps.readNamespacedDeployment({ name, namespace });
      case 'StatefulSet':
        return apps.readNamespacedStatefulSet({ name, namespace });
      case 'DaemonSet':
        return apps.readNamespacedDaemonSet({ name, namespace });
    }
  };
  const current = await call(`get ${what}`, read);
  if (current.spec?.template.metadata?.annotations?.[RESTARTED_FOR_ANNOTATION] === action.stamp) return 'skipped';
  const resourceVersion = current.metadata?.resourceVersion;
  if (resourceVersion === undefined) throw new TransientError(`${what} has no resourceVersion`);
  // The resourceVersion makes the patch conditional: if someone changed the workload since we read it, the
  // API server answers 409 and the next pass decides again.
  const body = {
    metadata: { resourceVersion },
    spec: { template: { metadata: { annotations: { [RESTARTED_FOR_ANNOTATION]: action.stamp, [RESTARTED_AT_ANNOTATION]: action.restartedAt } } } },
  };
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  await call(`patch ${what}`, () => {
    switch (action.kind) {
      case 'Deployment':
        return apps.patchNamespacedDeployment({ name, namespace, body }, options);
      case 'StatefulSet':
        return apps.patchNamespacedStatefulSet({ name, namespace, body }, options);
      case 'DaemonSet':
        return apps.patchNamespacedDaemonSet({ name, namespace, body }, options);
    }
  });
  return 'done';
}

export async function execute(ctx: ExecuteContext, action: Action): Promise<ExecutionOutcome> {
  switch (action.type) {
    case 'runInstallerJob':
      return runInstallerJob(ctx, action);
    case 'applyTagWebhook':
      return applyTagWebhook(ctx, action);
    case 'restartWorkload':
      return restartWorkload(ctx, action);
  }
}
