// The text `istio-upgrade-operator plan` prints: the plan as a platform engineer reads it before applying.
import type { IstioUpgradeSpec, UpgradePlan } from '../api/schema.ts';
import type { Finding } from '../core/prechecks/index.ts';

export interface PlanReport {
  readonly name: string;
  readonly tag: string;
  readonly from: string | undefined;
  readonly fromVersion: string | undefined;
  readonly to: string;
  readonly version: string;
  readonly installer: InstallerMode;
  readonly plan: UpgradePlan;
  readonly refusal: Finding | undefined;
}

type InstallerMode = IstioUpgradeSpec['installer']['mode'];

/** What runs when the upgrade is applied, and who removes the old revision, by installer mode. */
const BY_INSTALLER: Record<InstallerMode, { readonly precheck: string; readonly removal: (from: string) => string }> = {
  istioctl: { precheck: 'the istioctl precheck Job runs when the upgrade is applied', removal: (from) => `istioctl uninstall --revision ${from}` },
  helm: { precheck: 'the helm --dry-run Jobs run when the upgrade is applied', removal: (from) => `helm uninstall of the istiod release of ${from}` },
  external: { precheck: 'the external installer installs the new revision', removal: (from) => `by the external installer, once ${from} is unused` },
};

function section(title: string, lines: readonly string[], total?: number): string[] {
  if (lines.length === 0) return [];
  const more = total !== undefined && total > lines.length ? [`  ... and ${total - lines.length} more`] : [];
  return ['', `${title}${total !== undefined ? ` (${total})` : ''}:`, ...lines.map((l) => `  ${l}`), ...more];
}

export function renderPlanText(report: PlanReport): string {
  const { plan } = report;
  const from = report.from === undefined ? '?' : `${report.from}${report.fromVersion === undefined ? '' : ` (${report.fromVersion})`}`;
  const lines = [
    `IstioUpgrade ${report.name}: tag "${report.tag}" ${from} -> ${report.to} (${report.version})`,
    report.refusal === undefined ? `Precheck: passed (${BY_INSTALLER[report.installer].precheck})` : `Precheck: REFUSED ${report.refusal.reason}: ${report.refusal.message}`,
    ...section('Warnings', plan.warnings ?? []),
    ...section('Gateways restarted in place after the tag switch', plan.gateways ?? []),
    ...section('Waves, in order', plan.waves.map((w, i) => `${i + 1}. ${w.name} (tag ${w.tag}): ${w.workloads} workload(s) in ${w.namespaceCount} namespace(s)${w.namespaces.length > 0 ? `: ${w.namespaces.join(', ')}${w.namespaceCount > w.namespaces.length ? ', ...' : ''}` : ''}`)),
    ...section('Never restarted', (plan.skipped ?? []).map((s) => `${s.kind} ${s.name}  ${s.reason}: ${s.message}`), plan.skippedCount),
    ...section('Re-rendered by istiod itself (Gateway API)', plan.managedByIstiod ?? []),
    ...section('Holding the old revision (the uninstall waits for these)', (plan.blockers ?? []).map((b) => `${b.kind} ${b.name}  ${b.reason}: ${b.message}`), plan.blockerCount),
    ...section(`Removed at the end (${BY_INSTALLER[report.installer].removal(report.from ?? '?')})`, plan.removals ?? []),
  ];
  return `${lines.join('\n')}\n`;
}
