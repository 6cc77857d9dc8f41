// The built-in soak signals, measured from what the operator already watches (no Prometheus needed): container
// restarts of the soaked workloads' pods since the soak began (istio-proxy and the others apart), containers in
// CrashLoopBackOff, pods not Ready for a while, and the new istiod restarting or not Ready. One series per pod.
import type { MetricReading, PodState, Series } from '../../core/observed.ts';
import type { BuiltinCheck, SoakRequest } from '../../core/soak.ts';
import { workloadRef } from '../../core/soak.ts';
import type { ProviderContext, SoakProvider } from './index.ts';

type BuiltinRequest = Extract<SoakRequest, { provider: 'builtin' }>;

function live(p: PodState): boolean {
  return !p.terminating && p.phase !== 'Succeeded' && p.phase !== 'Failed';
}

function increase(request: BuiltinRequest, pod: PodState, container: string, restarts: number): number {
  return Math.max(0, restarts - (request.baseline[`${pod.namespace}/${pod.name}/${container}`] ?? 0));
}

function notReadySeconds(pod: PodState, nowMs: number): number {
  if (pod.ready) return 0;
  const since = pod.readySince === undefined ? Number.NaN : Date.parse(pod.readySince);
  return Number.isNaN(since) ? 0 : Math.max(0, (nowMs - since) / 1000);
}

function seriesFor(check: BuiltinCheck, request: BuiltinRequest, pods: readonly PodState[], istiod: readonly PodState[], nowMs: number): Series[] {
  const labels = (pod: PodState, extra: Record<string, string> = {}) => ({ namespace: pod.namespace, pod: pod.name, ...extra });
  switch (check.name) {
    case 'proxy-restarts':
      return pods.flatMap((p) => p.containers.filter((c) => c.name === request.proxyContainer).map((c) => ({ labels: labels(p, { container: c.name }), value: increase(request, p, c.name, c.restarts) })));
    case 'app-restarts':
      return pods.flatMap((p) => p.containers.filter((c) => c.name !== request.proxyContainer).map((c) => ({ labels: labels(p, { container: c.name }), value: increase(request, p, c.name, c.restarts) })));
    case 'crash-loop':
      return pods.map((p) => {
        const looping = p.containers.find((c) => c.waitingReason === 'CrashLoopBackOff');
        return { labels: labels(p, looping === undefined ? {} : { container: looping.name }), value: looping === undefined ? 0 : 1 };
      });
    case 'not-ready':
      return pods.map((p) => ({ labels: labels(p), value: notReadySeconds(p, nowMs) }));
    case 'istiod':
      return istiod.map((p) => ({ labels: labels(p), value: p.containers.reduce((n, c) => n + increase(request, p, c.name, c.restarts), 0) + (p.ready ? 0 : 1) }));
  }
}

/** The readings, computed synchronously from the observed cluster (the provider only wraps this). */
export function builtinReadings(request: BuiltinRequest, context: ProviderContext): MetricReading[] {
  const { observed, now } = context;
  const wanted = new Set(request.workloads);
  const pods = observed.workloads.filter((w) => wanted.has(workloadRef(w))).flatMap((w) => w.pods).filter(live);
  const istiod = observed.workloads
    .filter((w) => w.namespace === observed.istioNamespace && w.labels.app === 'istiod' && w.labels['istio.io/rev'] === request.revision)
    .flatMap((w) => w.pods)
    .filter(live);
  return request.checks.map((check): MetricReading => {
    const series = seriesFor(check, request, pods, istiod, now.getTime());
    return series.length === 0 ? { name: `builtin:${check.name}`, kind: 'noData' } : { name: `builtin:${check.name}`, kind: 'series', series };
  });
}

export const builtinProvider: SoakProvider<BuiltinRequest> = {
  read: (request, context) => Promise.resolve(builtinReadings(request, context)),
};
