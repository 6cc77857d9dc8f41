// Prechecks on versions: no accidental downgrade, at most maxMinorSkip minors per canary upgrade, and a
// Kubernetes version the target Istio supports.
import { kubernetesMinor, kubernetesSupport } from '../support-matrix.ts';
import { describeVersion, refuse, warn, type Finding, type PrecheckContext } from './context.ts';
import { compareVersions } from '../version.ts';

export function downgrade(ctx: PrecheckContext): Finding | undefined {
  const { spec } = ctx.draft;
  if (compareVersions(ctx.target, ctx.fromVersion) >= 0 || spec.precheck.allowDowngrade) return undefined;
  return refuse('DowngradeNotAllowed', `${spec.version} is older than the running ${describeVersion(ctx.fromVersion)}; set spec.precheck.allowDowngrade: true to downgrade on purpose`);
}

export function versionSkew(ctx: PrecheckContext): Finding | undefined {
  const { spec } = ctx.draft;
  const { target, fromVersion } = ctx;
  const minorJump = Math.abs(target.minor - fromVersion.minor);
  if (target.major === fromVersion.major && minorJump <= spec.precheck.maxMinorSkip) return undefined;
  const span = target.major !== fromVersion.major ? 'a major version' : `${minorJump} minor versions`;
  return refuse('VersionSkewTooLarge', `${describeVersion(fromVersion)} -> ${spec.version} spans ${span}; a canary upgrade may skip at most ${spec.precheck.maxMinorSkip}. Upgrade through an intermediate version`);
}

export function kubernetesVersion(ctx: PrecheckContext): Finding | undefined {
  const { observed } = ctx.draft;
  const { target } = ctx;
  const kubeMinor = kubernetesMinor(observed.kubernetesVersion);
  const support = kubeMinor === undefined ? { kind: 'unknown' as const } : kubernetesSupport(target.major, target.minor, kubeMinor);
  if (support.kind === 'supported') return undefined;
  if (support.kind === 'unsupported') {
    return refuse('KubernetesVersionUnsupported', `Istio ${target.major}.${target.minor} supports Kubernetes 1.${support.range.minMinor}-1.${support.range.maxMinor}; this cluster runs ${observed.kubernetesVersion}`);
  }
  return warn('PrecheckWarning', `Kubernetes support of Istio ${target.major}.${target.minor} on ${observed.kubernetesVersion} is not known to this operator (not in its support table); check https://istio.io/latest/docs/releases/supported-releases/`);
}
