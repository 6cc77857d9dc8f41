// The precheck chain (cert-manager's policy-chain style): each check is a named pure function of the resolved
// context. The Prechecking phase and the plan preview (and the `plan` command) run the same list.
import type { Finding, PrecheckContext } from './context.ts';
import { sharedOldComponents } from './components.ts';
import { gateways } from './gateways.ts';
import { helmReleases } from './helm-releases.ts';
import { installerImage } from './installer-image.ts';
import { additionalTags, installerOwnership, installLeavesInjection, targetRevision } from './revisions.ts';
import { soakQueries } from './soak-queries.ts';
import { downgrade, kubernetesVersion, versionSkew } from './versions.ts';
import { waveNamespaces } from './waves.ts';

export interface Precheck {
  readonly name: string;
  readonly check: (ctx: PrecheckContext) => Finding | undefined;
}

export const PRECHECKS: readonly Precheck[] = [
  { name: 'installer-image', check: installerImage },
  { name: 'downgrade', check: downgrade },
  { name: 'version-skew', check: versionSkew },
  { name: 'kubernetes-version', check: kubernetesVersion },
  { name: 'target-revision', check: targetRevision },
  { name: 'installer-ownership', check: installerOwnership },
  { name: 'helm-releases', check: helmReleases },
  { name: 'additional-tags', check: additionalTags },
  { name: 'install-leaves-injection', check: installLeavesInjection },
  { name: 'gateways', check: gateways },
  { name: 'wave-namespaces', check: waveNamespaces },
  { name: 'shared-old-components', check: sharedOldComponents },
  { name: 'soak-queries', check: soakQueries },
];

/** Runs every check; the first refusal wins, warnings are all kept. */
export function runPrechecks(ctx: PrecheckContext): { refusal: Finding | undefined; warnings: Finding[] } {
  const warnings: Finding[] = [];
  for (const precheck of PRECHECKS) {
    const finding = precheck.check(ctx);
    if (finding === undefined) continue;
    if (finding.severity === 'refuse') return { refusal: finding, warnings };
    warnings.push(finding);
  }
  return { refusal: undefined, warnings };
}

export { resolvePrecheckContext, type Finding, type PrecheckContext } from './context.ts';
export { adoptable } from './revisions.ts';
