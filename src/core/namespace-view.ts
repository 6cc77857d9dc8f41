// One namespace as an upgrade sees it: its workloads and other pods with their scopes, and what the rollout and
// the counts derive from them, remembered across passes. observe keeps an unchanged namespace's lists as the
// same arrays (ObservedState.byNamespace), so a namespace in which nothing changed costs a lookup per pass,
// not a walk of its workloads: a pass then costs the namespaces it looks at, not the size of the mesh (issue 14).
// Every answer is exactly what a fresh computation gives; only the work is saved.
import type { NamespaceObjects, PodState, WorkloadState } from './observed.ts';
import { sameItems } from './same-items.ts';
import { classifyOtherPod, type PodScope, type ScopeContext } from './scope.ts';
import { sameScopeInputs, scopeInputs, scopedWorkload, type Scoped, type ScopeInputs } from './scope-memo.ts';
import { stampOf, workloadOnRevision } from './workloads.ts';

export interface ScopedPod {
  readonly pod: PodState;
  readonly scope: PodScope;
}

export function scopedPod(pod: PodState, context: ScopeContext): ScopedPod {
  return { pod, scope: classifyOtherPod(pod, context) };
}

/** Where a namespace stands in a wave: the workloads the wave's tag moves here, and how far they are. */
export interface NamespaceRollout {
  readonly moved: readonly WorkloadState[];
  /** Moved workloads already on the revision. */
  readonly upgraded: number;
  /** One of them carries this upgrade's stamp: the namespace holds a slot. */
  readonly started: boolean;
}

/** The namespace's share of status.workloads: moved workloads of the given tags, gateways left out. */
export interface NamespaceCount {
  readonly total: number;
  readonly upgraded: number;
}

export class NamespaceView {
  readonly name: string;
  readonly workloads: readonly Scoped[];
  readonly otherPods: readonly ScopedPod[];
  /** The tags whose switch moves a workload here. */
  readonly movedTags: ReadonlySet<string>;
  /** Pinned to the old revision and relabelled onto the tag in its wave (spec.rollout.adoptPinnedNamespaces). */
  readonly adopted: boolean;
  // The last question of each kind and its answer: a pass asks each namespace one of each, the same as the
  // pass before while the wave goes on (strings compared, no key built per namespace and pass).
  private lastRollout: { readonly tag: string; readonly revision: string; readonly stamp: string; readonly answer: NamespaceRollout } | undefined;
  private lastCount: { readonly tags: readonly string[]; readonly gatewayNames: readonly string[]; readonly revision: string; readonly answer: NamespaceCount } | undefined;
  private skipped: readonly string[] | undefined;

  constructor(name: string, objects: NamespaceObjects, context: ScopeContext) {
    this.name = name;
    this.workloads = objects.workloads.map((w) => scopedWorkload(w, context));
    this.otherPods = objects.otherPods.map((pod) => scopedPod(pod, context));
    const tags = new Set<string>();
    let adopted = false;
    for (const { scope } of this.workloads) {
      if (!scope.move) continue;
      tags.add(scope.tag);
      adopted ||= scope.adopt;
    }
    this.movedTags = tags;
    this.adopted = adopted;
  }

  /** The workloads `tag` moves here, and their progress onto `revision` under this upgrade's `stamp`. */
  rollout(tag: string, revision: string, stamp: string): NamespaceRollout {
    const last = this.lastRollout;
    if (last !== undefined && last.tag === tag && last.revision === revision && last.stamp === stamp) return last.answer;
    const moved = this.workloads.flatMap((s) => (s.scope.move && s.scope.tag === tag ? [s.workload] : []));
    const answer = { moved, upgraded: moved.filter((w) => workloadOnRevision(w, revision)).length, started: moved.some((w) => stampOf(w) === stamp) };
    this.lastRollout = { tag, revision, stamp, answer };
    return answer;
  }

  /** Moved workloads whose tag is one of `tags`, except those named like a gateway of this namespace. */
  count(tags: readonly string[], gatewayNames: readonly string[], revision: string): NamespaceCount {
    const last = this.lastCount;
    if (last !== undefined && last.revision === revision && sameItems(last.tags, tags) && sameItems(last.gatewayNames, gatewayNames)) return last.answer;
    const inScope = this.workloads.filter(({ workload, scope }) => scope.move && tags.includes(scope.tag) && !gatewayNames.includes(workload.name));
    const answer = { total: inScope.length, upgraded: inScope.filter((s) => workloadOnRevision(s.workload, revision)).length };
    this.lastCount = { tags, gatewayNames, revision, answer };
    return answer;
  }

  /** "Kind/namespace/name: why" of every workload and pod the upgrade leaves alone here. */
  skippedLines(): readonly string[] {
    this.skipped ??= [
      ...this.workloads.flatMap(({ workload, scope }) => (scope.move ? [] : [`${workload.kind}/${workload.namespace}/${workload.name}: ${scope.detail}`])),
      ...this.otherPods.map((s) => `Pod/${s.pod.namespace}/${s.pod.name}: ${s.scope.detail}`),
    ];
    return this.skipped;
  }
}

/** What a namespace's view was derived from, and the view. */
interface Remembered {
  readonly name: string;
  readonly otherPods: readonly PodState[];
  readonly inputs: ScopeInputs;
  readonly view: NamespaceView;
}

const remembered = new WeakMap<readonly WorkloadState[], Remembered>();

/** The view of one namespace; the previous one while its objects (same arrays) and its inputs are the same. */
export function namespaceView(name: string, objects: NamespaceObjects, context: ScopeContext): NamespaceView {
  const inputs = scopeInputs(name, context);
  const previous = remembered.get(objects.workloads);
  if (previous !== undefined && previous.name === name && previous.otherPods === objects.otherPods && sameScopeInputs(previous.inputs, inputs)) return previous.view;
  const view = new NamespaceView(name, objects, context);
  remembered.set(objects.workloads, { name, otherPods: objects.otherPods, inputs, view });
  return view;
}

/** The workloads and other pods by namespace: observe's grouping when it gives one, else grouped here. */
export function objectsByNamespace(observed: { readonly workloads: readonly WorkloadState[]; readonly otherPods: readonly PodState[]; readonly byNamespace?: ReadonlyMap<string, NamespaceObjects> }): ReadonlyMap<string, NamespaceObjects> {
  if (observed.byNamespace !== undefined) return observed.byNamespace;
  const workloads = Map.groupBy(observed.workloads, (w) => w.namespace);
  const pods = Map.groupBy(observed.otherPods, (p) => p.namespace);
  const names = new Set([...workloads.keys(), ...pods.keys()]);
  return new Map([...names].map((name) => [name, { workloads: workloads.get(name) ?? [], otherPods: pods.get(name) ?? [] }]));
}
