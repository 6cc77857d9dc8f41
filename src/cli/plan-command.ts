// `istio-upgrade-operator plan -f upgrade.yaml`: what an IstioUpgrade would do to this mesh, computed from one
// look at the cluster by the same planner code the operator runs, without creating or changing anything.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { IstioUpgradeSchema } from '../api/schema.ts';
import { Draft } from '../core/draft.ts';
import { previewPlan } from '../core/plan-preview.ts';
import { resolvePrecheckContext } from '../core/prechecks/index.ts';
import { formatVersion } from '../core/version.ts';
import { makeClients } from '../kube/clients.ts';
import { loadConnection } from '../kube/rest/kube-connection.ts';
import { observe } from '../kube/observe.ts';
import { snapshotCaches } from '../kube/snapshot.ts';
import { renderPlanText } from './plan-report.ts';

export interface PlanOptions {
  readonly file: string;
  readonly kubeconfig: string | undefined;
  readonly istioNamespace: string;
  readonly output: 'text' | 'yaml' | 'json';
}

/** Exit codes: 0 the upgrade would proceed, 3 the precheck would refuse it, 2 bad input. */
export async function runPlan(options: PlanOptions, out: (text: string) => void): Promise<number> {
  const text = options.file === '-' ? readFileSync(0, 'utf8') : readFileSync(options.file, 'utf8');
  const documents: unknown[] = yaml.loadAll(text).filter((d) => d !== null);
  const manifest = documents[0];
  if (documents.length !== 1 || typeof manifest !== 'object' || manifest === null) throw new PlanInputError(`${options.file}: expected exactly one IstioUpgrade manifest`);
  const meta = 'metadata' in manifest && typeof manifest.metadata === 'object' && manifest.metadata !== null ? manifest.metadata : {};
  const parsed = IstioUpgradeSchema.safeParse({
    apiVersion: 'istioupgrade.dev/v1alpha1',
    kind: 'IstioUpgrade',
    ...manifest,
    metadata: { name: 'plan', uid: 'plan-preview', creationTimestamp: new Date().toISOString(), ...meta },
    status: {},
  });
  if (!parsed.success) throw new PlanInputError(`${options.file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const upgrade = parsed.data;

  const clients = makeClients(loadConnection(options.kubeconfig));
  const kubernetesVersion = (await clients.version.getCode()).gitVersion;
  const caches = await snapshotCaches(clients, options.istioNamespace);
  const now = new Date();
  const observed = await observe({ caches, istioNamespace: options.istioNamespace, installerNamespace: '', kubernetesVersion }, upgrade, now);
  const draft = new Draft(upgrade, observed, now);
  const preview = previewPlan(draft);
  const resolved = resolvePrecheckContext(draft);
  const report = {
    name: upgrade.metadata.name,
    tag: upgrade.spec.tag,
    from: resolved.ok ? resolved.context.from : draft.fromRevision,
    fromVersion: resolved.ok ? formatVersion(resolved.context.fromVersion) : undefined,
    to: draft.toRevision,
    version: upgrade.spec.version,
    installer: upgrade.spec.installer.mode,
    plan: preview.plan,
    refusal: preview.refusal,
  };
  if (options.output === 'text') out(renderPlanText(report));
  else {
    const document = { ...report, refusal: report.refusal === undefined ? undefined : { reason: report.refusal.reason, message: report.refusal.message } };
    out(options.output === 'json' ? `${JSON.stringify(document, null, 2)}\n` : yaml.dump(document, { noRefs: true, lineWidth: 160 }));
  }
  return preview.refusal === undefined ? 0 : 3;
}

export class PlanInputError extends Error {
  override readonly name = 'PlanInputError';
}
