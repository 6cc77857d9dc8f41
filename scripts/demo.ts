// npm run demo: a full Istio canary upgrade on the embedded hermetic cluster, shown live. Boots the cluster
// (building it from pinned Go modules the first time), installs the old Istio with tag `default`, the sample
// mesh and the operator, applies a sample IstioUpgrade and follows it until it ends.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { clusterInfo, ensureClusterUp, insideNetns } from '../hack/cluster/cluster.ts';
import { connect, kubectl, sleep, type Kube } from '../hack/e2e/kube.ts';
import { resetMesh, tagRevision } from '../hack/e2e/mesh.ts';
import { OperatorProcess, installOperatorManifests } from '../hack/e2e/operator.ts';
import { resetExporter, sampleSpec } from '../hack/e2e/scenario.ts';
import { condition, createUpgrade, deleteAllUpgrades, getUpgrade, type LiveUpgrade } from '../hack/e2e/upgrades.ts';

const NAME = 'demo-upgrade';
const TERMINAL = new Set(['Succeeded', 'RolledBack', 'Failed']);

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function elapsed(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function progressLine(u: LiveUpgrade): string {
  const s = u.status;
  const reconciling = condition(u, 'Reconciling');
  const stalled = condition(u, 'Stalled');
  const note = stalled?.status === 'True' ? `${stalled.reason}: ${stalled.message}` : (reconciling?.message ?? '');
  return `${(s?.phase ?? 'Pending').padEnd(18)} wave=${(s?.currentWave ?? '-').padEnd(7)} upgraded=${(s?.upgraded ?? '-').padEnd(6)} ${note}`;
}

async function follow(kube: Kube): Promise<LiveUpgrade> {
  const started = Date.now();
  let last = '';
  for (;;) {
    const upgrade = await getUpgrade(kube, NAME);
    const line = progressLine(upgrade);
    if (line !== last) say(`[${elapsed(started)}] ${line}`);
    last = line;
    if (TERMINAL.has(upgrade.status?.phase ?? '')) return upgrade;
    await sleep(1000);
  }
}

async function demo(): Promise<number> {
  const kube = await connect();
  const { istioOld, istioOldRevision, istioNew, istioNewRevision } = kube.info.versions;
  say(`\n== 1/4  the mesh: Istio ${istioOld} (revision ${istioOldRevision}) with tag "default", sample workloads in foo, bar, baz, qux and istio-ingress`);
  await deleteAllUpgrades(kube);
  await resetMesh(kube);
  await resetExporter(kube);
  say(await kubectl(kube, ['get', 'deployments,statefulsets,daemonsets', '-n', 'bar', '-o', 'wide']));
  say('== 2/4  the operator: CRD and RBAC from deploy/, the operator process inside the cluster network');
  await installOperatorManifests(kube);
  const operator = new OperatorProcess(kube, { kubeconfig: kube.info.kubeconfigPath, identity: 'demo' });
  operator.start();
  say(`   operator log: ${operator.logFile}`);
  const spec = sampleSpec(kube, { soak: { ...sampleSpec(kube).soak, duration: '20s' }, uninstall: { gracePeriod: '10s' } });
  say(`== 3/4  applying this IstioUpgrade (Istio ${istioOld} -> ${istioNew}):\n`);
  say(yaml.dump({ apiVersion: 'istioupgrade.dev/v1alpha1', kind: 'IstioUpgrade', metadata: { name: NAME }, spec }).replace(/^/gm, '   '));
  await createUpgrade(kube, NAME, spec);
  say('== 4/4  live progress (what `kubectl get iu -w` and `kubectl describe iu` show):');
  const started = Date.now();
  const done = await follow(kube);
  await operator.stop();
  const s = done.status;
  say(`\n== summary: ${s?.phase ?? '?'} in ${elapsed(started)}`);
  say(`   revision ${s?.fromRevision ?? '?'} -> ${s?.toRevision ?? istioNewRevision}; tag "default" now points at ${(await tagRevision(kube)) ?? 'nothing'}`);
  say(`   workloads: ${JSON.stringify(s?.workloads)}; waves: ${(s?.waves ?? []).map((w) => `${w.name} ${w.state} [${w.namespaces.join(',')}]`).join('; ')}`);
  for (const skipped of s?.skippedWorkloads ?? []) say(`   reported, not restarted: ${skipped}`);
  say(`\n${await kubectl(kube, ['get', 'istioupgrades'])}`);
  say((await kubectl(kube, ['describe', 'istioupgrade', NAME])).split('\n').filter((l) => /^\s+(Normal|Warning)\s/.test(l)).slice(-12).join('\n'));
  say(`\nThe cluster keeps running: npm run cluster -- exec -- kubectl get iu ${NAME} -o yaml   (npm run cluster -- down to stop it)`);
  return s?.phase === 'Succeeded' ? 0 : 1;
}

const netns = clusterInfo().netns;
if (insideNetns(netns)) {
  process.exit(await demo());
} else {
  // Everything runs inside the cluster's isolated network namespace: boot it (showing its progress: the first
  // build takes ~20 minutes), then re-run this script there.
  const cluster = await ensureClusterUp({
    log: (line) => {
      console.error(`[cluster] ${line}`);
    },
  });
  const result = spawnSync('ip', ['netns', 'exec', cluster.netns, 'env', ...Object.entries(cluster.env).map(([k, v]) => `${k}=${v}`), process.execPath, fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
