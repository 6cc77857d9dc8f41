// What a namespace holds from the upgrade's point of view: which workloads are restarted, which are only
// reported, when a workload counts as upgraded, and who still uses a revision.
import {
  ISTIO_INJECTION_LABEL,
  ISTIO_REV_LABEL,
  ISTIO_TAG_LABEL,
  RESTARTED_AT_ANNOTATION,
  RESTARTED_FOR_ANNOTATION,
  SIDECAR_INJECT_LABEL,
} from '../api/constants.ts';
import type { ObservedState, PodState, RolloutState, WorkloadState } from './observed.ts';

export function restartStamp(upgradeUid: string, revision: string): string {
  return `${upgradeUid}/${revision}`;
}

export function workloadKey(w: { kind: string; namespace: string; name: string }): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

export function stampOf(w: WorkloadState): string | undefined {
  return w.templateAnnotations[RESTARTED_FOR_ANNOTATION];
}

/** When the workload was restarted (kubectl's restartedAt annotation), in epoch ms. */
export function restartedAtOf(w: WorkloadState): number | undefined {
  const text = w.templateAnnotations[RESTARTED_AT_ANNOTATION];
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export type WorkloadVerdict = { readonly restart: true } | { readonly restart: false; readonly why: string };

/** Restartable unless its pods pin another revision or opt out of injection. */
export function classifyWorkload(w: WorkloadState, tag: string): WorkloadVerdict {
  const pinned = w.templateLabels[ISTIO_REV_LABEL];
  if (pinned !== undefined && pinned !== tag) {
    return { restart: false, why: `pinned to revision "${pinned}" by its own ${ISTIO_REV_LABEL} label` };
  }
  const inject = w.templateLabels[SIDECAR_INJECT_LABEL] ?? w.templateAnnotations[SIDECAR_INJECT_LABEL];
  if (inject === 'false') return { restart: false, why: 'sidecar injection disabled' };
  return { restart: true };
}

export function rolloutComplete(r: RolloutState): boolean {
  return r.observedGeneration >= r.generation && r.updated >= r.desired && r.ready >= r.desired && r.total <= r.desired;
}

/**
 * Rolled out, and every live pod runs a proxy injected by `revision`. The pods seen must account for the
 * desired replicas: a rollout that reports done while its pods are not (yet) observed proves nothing.
 */
export function workloadOnRevision(w: WorkloadState, revision: string): boolean {
  if (!rolloutComplete(w.rollout)) return false;
  const live = w.pods.filter((p) => !p.terminating && p.phase !== 'Succeeded' && p.phase !== 'Failed');
  return live.length >= w.rollout.desired && live.every((p) => p.injectedRevision === revision);
}

/** Why a pod outside Deployments/StatefulSets/DaemonSets is left alone. */
export function skippedPodReason(p: PodState): string {
  if (p.owner === undefined) return 'bare pod';
  if (p.owner.kind === 'Job') return `pod of Job ${p.owner.name}`;
  return `pod of ${p.owner.kind} ${p.owner.name}`;
}

/** Namespaces whose pods are injected through `tag` (for "default", also the legacy istio-injection label). */
export function namespaceUsesTag(labels: Readonly<Record<string, string>>, tag: string): boolean {
  const injection = labels[ISTIO_INJECTION_LABEL];
  if (injection !== undefined) return tag === 'default' && injection === 'enabled';
  return labels[ISTIO_REV_LABEL] === tag;
}

export interface RevisionReference {
  readonly kind: 'tag' | 'namespace' | 'pod';
  readonly name: string;
  /** A terminating pod: it goes away by itself. */
  readonly transient: boolean;
}

function podReferences(p: PodState, revision: string, istioNamespace: string): boolean {
  if (p.phase === 'Succeeded') return false;
  // Failed pods of finished Jobs never run again; they must not pin a revision forever.
  if (p.phase === 'Failed' && p.ownerJobFinished) return false;
  // istiod's own pods carry its revision label; they are the revision, not a user of it.
  if (p.namespace === istioNamespace && p.labels.app === 'istiod') return false;
  return p.labels[ISTIO_REV_LABEL] === revision || p.injectedRevision === revision;
}

/** Everything that still uses `revision`: tags, namespace labels and live pods. */
export function referencesTo(revision: string, observed: ObservedState): RevisionReference[] {
  const refs: RevisionReference[] = [];
  for (const w of observed.mutatingWebhooks) {
    const tag = w.labels[ISTIO_TAG_LABEL];
    if (tag !== undefined && w.labels[ISTIO_REV_LABEL] === revision) refs.push({ kind: 'tag', name: tag, transient: false });
  }
  for (const ns of observed.namespaces) {
    if (ns.labels[ISTIO_REV_LABEL] === revision) refs.push({ kind: 'namespace', name: ns.name, transient: false });
  }
  const pods = [...observed.workloads.flatMap((w) => w.pods), ...observed.otherPods];
  for (const p of pods) {
    if (podReferences(p, revision, observed.istioNamespace)) {
      refs.push({ kind: 'pod', name: `${p.namespace}/${p.name}`, transient: p.terminating });
    }
  }
  return refs;
}

export function describeReferences(refs: readonly RevisionReference[], limit = 10): string {
  const shown = refs.slice(0, limit).map((r) => `${r.kind} ${r.name}`);
  const more = refs.length > limit ? ` and ${refs.length - limit} more` : '';
  return `${shown.join(', ')}${more}`;
}
