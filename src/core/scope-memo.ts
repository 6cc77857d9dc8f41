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

/** Everything of the context that classifyWorkload reads for one workload, and the answer. */
interface Remembered {
  readonly webhooks: readonly WebhookConfiguration[];
  readonly namespaceLabels: Labels | undefined;
  readonly tags: readonly string[];
  readonly fromRevision: string | undefined;
  readonly excluded: boolean;
  readonly adoptPinnedNamespaces: boolean;
  readonly scoped: Scoped;
}

const remembered = new WeakMap<WorkloadState, Remembered>();

/** The workload with classifyWorkload(workload, context), reused while the workload and its inputs are the same. */
export function scopedWorkload(workload: WorkloadState, context: ScopeContext): Scoped {
  const namespaceLabels = context.namespaces.get(workload.namespace);
  const excluded = context.excludedNamespaces.has(workload.namespace);
  const previous = remembered.get(workload);
  if (
    previous !== undefined &&
    previous.namespaceLabels === namespaceLabels &&
    previous.excluded === excluded &&
    previous.fromRevision === context.fromRevision &&
    previous.adoptPinnedNamespaces === context.adoptPinnedNamespaces &&
    sameItems(previous.tags, context.tags) &&
    sameItems(previous.webhooks, context.webhooks)
  ) {
    return previous.scoped;
  }
  const scoped = { workload, scope: classifyWorkload(workload, context) };
  remembered.set(workload, { webhooks: context.webhooks, namespaceLabels, tags: context.tags, fromRevision: context.fromRevision, excluded, adoptPinnedNamespaces: context.adoptPinnedNamespaces, scoped });
  return scoped;
}

