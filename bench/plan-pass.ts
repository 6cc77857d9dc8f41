// CPU cost of one planner pass against the size of the mesh, outside the cluster: a synthetic mesh of
// N namespaces x P Deployments (1 pod each) is walked by the fake mesh to the middle of its rollout, then
// plan() is timed on that state, with one namespace changed before each pass (as observe hands it over: the
// changed namespace's arrays new, the others kept, the epochs naming it). Results go to
// bench/results/plan-pass.json (medians; never a test assertion).
//   node bench/plan-pass.ts [--sizes 1000,2500,5000,10000] [--per-ns 5] [--repeat 15]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { IstioUpgrade } from '../src/api/schema.ts';
import type { ObservedState } from '../src/core/observed.ts';
import { NamespaceEpochLog } from '../src/core/namespace-epochs.ts';
import { plan } from '../src/core/plan.ts';
import { FakeMesh, walk } from '../test/support/fake-mesh.ts';
import { E2E_SPEC, OLD, makeUpgrade, namespace, sampleMesh, workload } from '../test/support/fixtures.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,2500,5000,10000' }, 'per-ns': { type: 'string', default: '5' }, repeat: { type: 'string', default: '15' } } });
const perNamespace = Number(values['per-ns']);
const repeat = Number(values.repeat);
const sizes = values.sizes.split(',').map(Number);

function syntheticMesh(workloads: number): ObservedState {
  const base = sampleMesh();
  const count = Math.ceil(workloads / perNamespace);
  const names = Array.from({ length: count }, (_, i) => `ns-${String(i).padStart(5, '0')}`);
  return {
    ...base,
    namespaces: [...base.namespaces, ...names.map((n) => namespace(n))],
    workloads: [...base.workloads, ...names.flatMap((n) => Array.from({ length: perNamespace }, (_, j) => workload(n, `app-${j}`, OLD.revision)))],
  };
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

interface Row {
  readonly workloads: number;
  readonly namespaces: number;
  readonly phase: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly actions: number;
}

const spec = { ...E2E_SPEC, rollout: { waves: [{ name: 'canary', namespaces: ['bar'] }, { name: 'rest', maxConcurrentNamespaces: 50 }] } };
const rows: Row[] = [];
for (const size of sizes) {
  const mesh = new FakeMesh(syntheticMesh(size));
  const total = mesh.observed.workloads.length;
  // Halfway through the rollout: half the namespaces moved, a full slot of them restarting.
  const held = walk(makeUpgrade(spec), mesh, { stopWhen: (u) => u.status.phase === 'RollingOut' && (u.status.workloads?.upgraded ?? 0) >= total / 2, maxPasses: 100_000 });
  const upgrade: IstioUpgrade = held.upgrade;
  // As observe hands it over: grouped by namespace, the arrays kept while a namespace does not change.
  const workloadsByNs = Map.groupBy(mesh.observed.workloads, (w) => w.namespace);
  const podsByNs = Map.groupBy(mesh.observed.otherPods, (p) => p.namespace);
  const names = [...new Set([...workloadsByNs.keys(), ...podsByNs.keys()])].sort();
  const byNamespace = new Map(names.map((n) => [n, { workloads: workloadsByNs.get(n) ?? [], otherPods: podsByNs.get(n) ?? [] }]));
  const epochs = new NamespaceEpochLog();
  plan(upgrade, { ...mesh.observed, byNamespace: new Map(byNamespace), namespaceEpochs: epochs }, held.now);
  const times: number[] = [];
  let actions = 0;
  for (let i = 0; i < repeat; i++) {
    const changed = names[(i * 7919) % names.length] ?? '';
    const entry = byNamespace.get(changed);
    if (entry !== undefined) byNamespace.set(changed, { workloads: [...entry.workloads], otherPods: [...entry.otherPods] });
    epochs.record(new Set([changed]));
    const observed: ObservedState = { ...mesh.observed, byNamespace: new Map(byNamespace), namespaceEpochs: epochs };
    const start = process.hrtime.bigint();
    const result = plan(upgrade, observed, held.now);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    actions = result.actions.length;
  }
  const row = { workloads: total, namespaces: mesh.observed.namespaces.length, phase: upgrade.status.phase ?? 'Pending', medianMs: median(times), minMs: Math.min(...times), actions };
  rows.push(row);
  console.log(`${String(row.workloads).padStart(6)} workloads: plan() median ${row.medianMs.toFixed(2)} ms (min ${row.minMs.toFixed(2)}), ${row.actions} actions, phase ${row.phase}`);
}

const first = rows[0];
const ratios = rows.map((r) => ({ workloads: r.workloads, msPerThousandWorkloads: (r.medianMs / r.workloads) * 1000, vsFirst: first === undefined ? 1 : r.medianMs / first.medianMs }));
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
const file = new URL('results/plan-pass.json', import.meta.url);
writeFileSync(file, `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, perNamespace, repeat, rows, ratios }, null, 2)}\n`);
console.log(`written ${file.pathname}`);
