// The mesh as one upgrade sees it in one pass: the injector webhooks once the mesh is prepared, and what happens to
// every workload and pod, by namespace (remembered across passes, see namespace-view.ts) or all at once for the
// phases that look at the whole mesh.
import type { DefaultTagPreparation } from './injection-view.ts';
import { namespaceView, objectsByNamespace, scopedPod, type NamespaceView, type ScopedPod } from './namespace-view.ts';
import type { NamespaceObjects, ObservedState, WebhookConfiguration } from './observed.ts';
import type { ScopeContext } from './scope.ts';
import { scopedWorkload, type Scoped } from './scope-memo.ts';

export type { ScopedPod } from './namespace-view.ts';
export type ScopedWorkload = Scoped;

/** The mesh as this upgrade sees it: webhooks once prepared, and what happens to every workload and pod. */
export class MeshView {
  readonly preparation: DefaultTagPreparation | undefined;
  readonly webhooks: readonly WebhookConfiguration[];
  readonly context: ScopeContext;
  private readonly observed: ObservedState;
  private objects: ReadonlyMap<string, NamespaceObjects> | undefined;
  /** This pass's answers: several steps ask for the same namespaces. */
  private readonly views = new Map<string, NamespaceView>();
  private allWorkloads: readonly ScopedWorkload[] | undefined;
  private allOtherPods: readonly ScopedPod[] | undefined;

  constructor(observed: ObservedState, preparation: DefaultTagPreparation | undefined, webhooks: readonly WebhookConfiguration[], context: ScopeContext) {
    this.observed = observed;
    this.preparation = preparation;
    this.webhooks = webhooks;
    this.context = context;
  }

  /** One namespace's workloads and pods with their scopes (empty when the mesh has nothing there). */
  namespace(name: string): NamespaceView {
    let view = this.views.get(name);
    if (view === undefined) {
      this.objects ??= objectsByNamespace(this.observed);
      view = namespaceView(name, this.objects.get(name) ?? { workloads: [], otherPods: [] }, this.context);
      this.views.set(name, view);
    }
    return view;
  }

  /** Every workload of the mesh, in observed order; for the phases that look at all of them. */
  get workloads(): readonly ScopedWorkload[] {
    this.allWorkloads ??= this.observed.workloads.map((workload) => scopedWorkload(workload, this.context));
    return this.allWorkloads;
  }

  get otherPods(): readonly ScopedPod[] {
    this.allOtherPods ??= this.observed.otherPods.map((pod) => scopedPod(pod, this.context));
    return this.allOtherPods;
  }
}
