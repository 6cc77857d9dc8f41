// /healthz: whether the kubelet should restart this replica. Only when it cannot recover by itself: no pass has
// finished for long while work waits, or an informer's list/watch has kept failing beyond the limit (informers
// retry forever with backoff, so a watch cut or an API server restart must not cost a pod restart).
import type { InformerHealth } from '../kube/informer.ts';

export interface LivenessLimits {
  readonly stuckAfterMs: number;
  readonly informerDownLimitMs: number;
}

export function liveness(stuckForMs: number, informers: readonly InformerHealth[], limits: LivenessLimits): { ok: boolean; detail: string } {
  if (stuckForMs > limits.stuckAfterMs) return { ok: false, detail: `no reconcile finished for ${Math.round(stuckForMs / 1000)}s` };
  const down = informers.filter((h) => h.failingForMs > limits.informerDownLimitMs);
  if (down.length > 0) {
    return { ok: false, detail: `list/watch failing for longer than ${Math.round(limits.informerDownLimitMs / 1000)}s: ${down.map((h) => `${h.name} (${h.lastError ?? 'never listed'})`).join(', ')}` };
  }
  return { ok: true, detail: 'reconciling' };
}
