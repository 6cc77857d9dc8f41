// classifyWorkload, remembered per workload across passes. A pass classifies every workload of the mesh, but
// between two passes almost none of them changes: the informers keep unchanged objects (and the observe step
// unchanged WorkloadStates) identical, so a workload whose object and whose inputs from the context are the
// same objects as last time gets last time's answer, without allocating anything. The result is exactly
// classifyWorkload's; only the work is saved (issue 14: classification was a fifth of the operator's CPU at
// 1,000 workloads).
import type { WebhookConfiguration, WorkloadState } from './observed.ts';
import { sameItems } from './same-items.ts';
import { classifyWorkload, type ScopeContext, type WorkloadScope } from './scope.ts';

type Labels = Readonly<Record<string, string>>;

/** A workload with its scope, as the view lists it. */
export interface Scoped {
  readonly workload: WorkloadState;
  readonly scope: WorkloadScope;
}

/** Everything of the context that classifyWorkload reads for the workloads of one namespace. */
export interface ScopeInputs {
  readonly webhooks: readonly WebhookConfiguration[];
  readonly namespaceLabels: Labels | undefined;
  readonly tags: readonly string[];
  readonly fromRevision: string | undefined;
  readonly excluded: boolean;
  readonly adoptPinnedNamespaces: boolean;
}

export function scopeInputs(namespace: string, context: ScopeContext): ScopeInputs {
  return {
    webhooks: context.webhooks,
    namespaceLabels: context.namespaces.get(namespace),
    tags: context.tags,
    fromRevision: context.fromRevision,
    excluded: context.excludedNamespaces.has(namespace),
    adoptPinnedNamespaces: context.adoptPinnedNamespaces,
  };
}

/** The same inputs: the same objects (labels, webhooks) and values; a classification made from one holds for the other. */
export function sameScopeInputs(a: ScopeInputs, b: ScopeInputs): boolean {
  return (
    a.namespaceLabels === b.namespaceLabels &&
    a.excluded === b.excluded &&
    a.fromRevision === b.fromRevision &&
    a.adoptPinnedNamespaces === b.adoptPinnedNamespaces &&
    sameItems(a.tags, b.tags) &&
    sameItems(a.webhooks, b.webhooks)
  );
}

function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

/** The same context for every namespace: the same objects (labels by namespace, webhooks) and values. */
export function sameScopeContext(a: ScopeContext, b: ScopeContext): boolean {
  return (
    a.namespaces === b.namespaces &&
    a.fromRevision === b.fromRevision &&
    a.adoptPinnedNamespaces === b.adoptPinnedNamespaces &&
    sameItems(a.tags, b.tags) &&
    sameItems(a.webhooks, b.webhooks) &&
    sameSet(a.excludedNamespaces, b.excludedNamespaces)
  );
}

const remembered = new WeakMap<WorkloadState, { readonly inputs: ScopeInputs; readonly scoped: Scoped }>();

/** The workload with classifyWorkload(workload, context), reused while the workload and its inputs are the same. */
export function scopedWorkload(workload: WorkloadState, context: ScopeContext): Scoped {
  const inputs = scopeInputs(workload.namespace, context);
  const previous = remembered.get(workload);
  if (previous !== undefined && sameScopeInputs(previous.inputs, inputs)) return previous.scoped;
  const scoped = { workload, scope: classifyWorkload(workload, context) };
  remembered.set(workload, { inputs, scoped });
  return scoped;
}
