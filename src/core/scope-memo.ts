// classifyWorkload, remembered per workload across passes. A pass classifies every workload of the mesh, but
// between two passes almost none of them changes: the informers keep unchanged objects (and the observe step
// unchanged WorkloadStates) identical, so a workload whose object and whose inputs from the context are the
// same objects as last time gets last time's answer. The result is exactly classifyWorkload's; only the work
// is saved (issue 14: classification was a fifth of the operator's CPU at 1,000 workloads).
import type { WebhookConfiguration, WorkloadState } from './observed.ts';
import { classifyWorkload, type ScopeContext, type WorkloadScope } from './scope.ts';

type Labels = Readonly<Record<string, string>>;

/** Everything of the context that classifyWorkload reads for one workload. */
interface Inputs {
  readonly webhooks: readonly WebhookConfiguration[];
  readonly namespaceLabels: Labels | undefined;
  readonly tags: readonly string[];
  readonly fromRevision: string | undefined;
  readonly excluded: boolean;
  readonly adoptPinnedNamespaces: boolean;
}

const remembered = new WeakMap<WorkloadState, { readonly inputs: Inputs; readonly scope: WorkloadScope }>();

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a === b || (a.length === b.length && a.every((item, i) => item === b[i]));
}

function sameInputs(a: Inputs, b: Inputs): boolean {
  return (
    a.namespaceLabels === b.namespaceLabels &&
    a.fromRevision === b.fromRevision &&
    a.excluded === b.excluded &&
    a.adoptPinnedNamespaces === b.adoptPinnedNamespaces &&
    sameItems(a.tags, b.tags) &&
    sameItems(a.webhooks, b.webhooks)
  );
}

/** classifyWorkload(workload, context), reused while the workload and its inputs are the same objects. */
export function classifyWorkloadRemembered(workload: WorkloadState, context: ScopeContext): WorkloadScope {
  const inputs: Inputs = {
    webhooks: context.webhooks,
    namespaceLabels: context.namespaces.get(workload.namespace),
    tags: context.tags,
    fromRevision: context.fromRevision,
    excluded: context.excludedNamespaces.has(workload.namespace),
    adoptPinnedNamespaces: context.adoptPinnedNamespaces,
  };
  const previous = remembered.get(workload);
  if (previous !== undefined && sameInputs(previous.inputs, inputs)) return previous.scope;
  const scope = classifyWorkload(workload, context);
  remembered.set(workload, { inputs, scope });
  return scope;
}
