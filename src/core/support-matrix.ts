// Kubernetes versions each Istio minor is supported on (istio.io data/compatibility/supportStatus.yml, k8sVersions;
// release announcements where the table has no row). Unknown minors produce a warning in the plan, not a failure:
// the table cannot know releases newer than this operator.

export interface KubernetesRange {
  readonly minMinor: number;
  readonly maxMinor: number;
}

export const ISTIO_KUBERNETES_SUPPORT: Readonly<Record<string, KubernetesRange>> = {
  '1.22': { minMinor: 27, maxMinor: 30 },
  '1.23': { minMinor: 27, maxMinor: 30 },
  '1.24': { minMinor: 28, maxMinor: 31 },
  '1.25': { minMinor: 29, maxMinor: 32 },
  '1.26': { minMinor: 29, maxMinor: 33 },
  '1.27': { minMinor: 29, maxMinor: 33 },
  '1.28': { minMinor: 30, maxMinor: 34 },
  '1.29': { minMinor: 31, maxMinor: 35 },
  '1.30': { minMinor: 32, maxMinor: 36 },
  // 1.31: its release announcement (istioctl's MinK8SVersion is 32).
  '1.31': { minMinor: 32, maxMinor: 36 },
};

export type SupportVerdict =
  | { readonly kind: 'supported' }
  | { readonly kind: 'unsupported'; readonly range: KubernetesRange }
  | { readonly kind: 'unknown' };

export function kubernetesSupport(istioMajor: number, istioMinor: number, kubeMinor: number): SupportVerdict {
  const range = ISTIO_KUBERNETES_SUPPORT[`${istioMajor}.${istioMinor}`];
  if (range === undefined) return { kind: 'unknown' };
  return kubeMinor >= range.minMinor && kubeMinor <= range.maxMinor ? { kind: 'supported' } : { kind: 'unsupported', range };
}

/** `v1.34.2`, `1.34.2+k3s1` or `v1.34.0-alpha.1` -> 34. */
export function kubernetesMinor(gitVersion: string): number | undefined {
  const match = /^v?1\.(\d+)/.exec(gitVersion);
  return match === null ? undefined : Number(match[1]);
}
