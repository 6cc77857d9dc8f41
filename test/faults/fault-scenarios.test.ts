// Issue 13: the operator recovers by itself from the faults a real API server produces. Each scenario runs a
// whole upgrade of the sample mesh with the operator's kubeconfig pointed at an HTTPS fault proxy
// (hack/e2e/fault-proxy.ts) and must end Succeeded, with each workload's generation +1 exactly, one pod per Job,
// the phase never going back and Stalled never raised. The last scenario black-holes the leader's Lease
// requests while a second replica talks to the API server directly: the old leader must stop before the new
// one acquires the lease. A table of the runs is printed and written to the cluster's logs directory.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FaultProxy, NO_FAULTS, type FaultCounters, type FaultRates } from '../../hack/e2e/fault-proxy.ts';
import { sleep, type Kube } from '../../hack/e2e/kube.ts';
import { OPERATOR_NAMESPACE, OperatorProcess } from '../../hack/e2e/operator.ts';
import { freshScenario, generations, sampleSpec } from '../../hack/e2e/scenario.ts';
import { recordStatuses, regressions, stalledTrail } from '../../hack/e2e/status-history.ts';
import { createUpgrade, getUpgrade, waitForPhase, waitForUpgrade, type LiveUpgrade } from '../../hack/e2e/upgrades.ts';

interface Row {
  scenario: string;
  outcome: string;
  wallSeconds: number;
  restartsPerWorkload: string;
  podsPerJob: string;
  operatorRestarts: number;
  counters: FaultCounters;
}

const rows: Row[] = [];
const MIX: FaultRates = { error500: 0.05, error500AfterApply: 0, conflict409: 0.05, tooMany429: 0.02, watchCutMs: [5_000, 20_000] };
const MIX_X3: FaultRates = { error500: 0.15, error500AfterApply: 0.7, conflict409: 0.15, tooMany429: 0.06, watchCutMs: [5_000, 20_000] };

/** Generation +1 for each sample workload: how many restarts each got, as "count×N". */
function restartCounts(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  return new Map([...before].map(([key, generation]) => [key, (after.get(key) ?? 0) - generation]));
}

function summarize(counts: ReadonlyMap<string, number>): string {
  const tally = new Map<number, number>();
  for (const n of counts.values()) tally.set(n, (tally.get(n) ?? 0) + 1);
  return [...tally].sort(([a], [b]) => a - b).map(([n, workloads]) => `${workloads}×${n}`).join(' ');
}

/** Pods per Job of this upgrade (Jobs found by their owner reference). */
async function podsPerJob(kube: Kube, upgrade: LiveUpgrade): Promise<Map<string, number>> {
  const jobs = (await kube.batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE })).items.filter((j) => j.metadata?.ownerReferences?.some((o) => o.uid === upgrade.metadata.uid));
  const out = new Map<string, number>();
  for (const job of jobs) {
    const name = job.metadata?.name ?? '';
    out.set(name, (await kube.core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `job-name=${name}` })).items.length);
  }
  return out;
}

/** Restarts the operator when it exits, as its Deployment would; returns how often it had to. */
function supervise(operator: OperatorProcess): { stop: () => Promise<number> } {
  let restarts = 0;
  let on = true;
  const loop = (async () => {
    while (on) {
      await sleep(1000);
      if (on && !operator.running) {
        restarts += 1;
        operator.start();
      }
    }
  })();
  return {
    stop: async () => {
      on = false;
      await loop;
      return restarts;
    },
  };
}

const quickSpec = (kube: Kube) => sampleSpec(kube, { soak: { duration: '3s' }, uninstall: { gracePeriod: '1s' } });

async function checkEnd(kube: Kube, name: string, before: Map<string, number>, history: Awaited<ReturnType<typeof recordStatuses>>): Promise<{ done: LiveUpgrade; restarts: Map<string, number>; jobs: Map<string, number> }> {
  const done = await getUpgrade(kube, name);
  history.stop();
  assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.failure ?? done.status?.conditions));
  const restarts = restartCounts(before, await generations(kube));
  for (const [key, n] of restarts) assert.equal(n, 1, `${key}: generation +${n}`);
  const jobs = await podsPerJob(kube, done);
  assert.ok(jobs.size >= 2, `installer Jobs: ${[...jobs.keys()].join(', ')}`);
  for (const [job, pods] of jobs) assert.equal(pods, 1, `${job}: ${pods} pods`);
  assert.deepEqual(regressions(history.samples), [], 'the phase never goes back');
  const trail = stalledTrail(history.samples);
  assert.ok(!trail.some((t) => t.startsWith('True')), `Stalled: ${trail.join(' -> ')}`);
  return { done, restarts, jobs };
}

describe('fault injection: the operator recovers by itself (issue 13)', { timeout: 60 * 60_000 }, () => {
  let kube: Kube;

  before(async () => {
    ({ kube } = await freshScenario('faults-setup'));
  });

  after(() => {
    const header = '| scenario | outcome | wall time (s) | restarts per workload | pods per Job | operator restarts | requests | watches | 500 before | 500 after apply | 409 | 429 | watch cuts | resets | black-holed |';
    const lines = rows.map((r) => `| ${r.scenario} | ${r.outcome} | ${r.wallSeconds} | ${r.restartsPerWorkload} | ${r.podsPerJob} | ${r.operatorRestarts} | ${r.counters.requests} | ${r.counters.watches} | ${r.counters.error500Before} | ${r.counters.error500AfterApply} | ${r.counters.conflict409} | ${r.counters.tooMany429} | ${r.counters.watchCuts} | ${r.counters.resets} | ${r.counters.blackHoled} |`);
    const table = [header, `|${' --- |'.repeat(15)}`, ...lines].join('\n');
    console.log(`\n${table}\n`);
    if (kube !== undefined) writeFileSync(join(kube.info.logsDir, 'fault-scenarios.md'), `${table}\n`);
  });

  const scenarios: { name: string; rates: FaultRates; during?: (proxy: FaultProxy, name: string) => Promise<void> }[] = [
    { name: 'no faults', rates: NO_FAULTS },
    { name: 'mix: 5% 500, 5% 409 on writes, 2% 429, watches cut after 5-20s', rates: MIX },
    { name: 'mix x3, 70% of the 500s after the write was applied', rates: MIX_X3 },
    { name: 'every watch cut after 5-20s', rates: { ...NO_FAULTS, watchCutMs: [5_000, 20_000] } },
    {
      name: 'one reset of every connection mid-wave',
      rates: NO_FAULTS,
      during: async (proxy, name) => {
        await waitForUpgrade(kube, name, (u) => u.status?.phase === 'RollingOut' && (u.status.workloads?.upgraded ?? 0) > 1, 'mid-wave', 10 * 60_000);
        proxy.resetAll();
      },
    },
  ];

  for (const [index, scenario] of scenarios.entries()) {
    it(scenario.name, async () => {
      const name = `fault-${index}`;
      if (index > 0) await freshScenario(name);
      const proxy = new FaultProxy(kube, scenario.rates, 1000 + index);
      const url = await proxy.start();
      const kubeconfig = proxy.writeKubeconfig(kube, url, join(kube.info.logsDir, `${name}.kubeconfig`));
      const operator = new OperatorProcess(kube, { kubeconfig, identity: name });
      const before = await generations(kube);
      const history = await recordStatuses(kube, name);
      const started = Date.now();
      operator.start();
      const supervisor = supervise(operator);
      try {
        await createUpgrade(kube, name, quickSpec(kube));
        await Promise.all([scenario.during?.(proxy, name), waitForPhase(kube, name, ['Succeeded', 'Failed', 'RolledBack'], 15 * 60_000)]);
        const wallSeconds = Math.round((Date.now() - started) / 1000);
        const operatorRestarts = await supervisor.stop();
        const { done, restarts, jobs } = await checkEnd(kube, name, before, history);
        rows.push({ scenario: scenario.name, outcome: done.status?.phase ?? '?', wallSeconds, restartsPerWorkload: summarize(restarts), podsPerJob: summarize(jobs), operatorRestarts, counters: { ...proxy.counters } });
        console.log(`${scenario.name}: seed ${proxy.seed}, ${JSON.stringify(proxy.counters)}`);
      } finally {
        await supervisor.stop();
        history.stop();
        await operator.stop().catch(() => undefined);
        await proxy.stop();
      }
    });
  }

  it('the leader cannot reach the Lease endpoint: it stops acting before the other replica takes over', async () => {
    const name = 'fault-lease';
    await freshScenario(name);
    const proxy = new FaultProxy(kube, NO_FAULTS, 2000);
    const url = await proxy.start();
    const kubeconfig = proxy.writeKubeconfig(kube, url, join(kube.info.logsDir, `${name}.kubeconfig`));
    const leader = new OperatorProcess(kube, { kubeconfig, identity: 'fault-lease-a', metricsPort: 9464, extraArgs: ['--log-level=debug'] });
    const standby = new OperatorProcess(kube, { kubeconfig: kube.info.kubeconfigPath, identity: 'fault-lease-b', metricsPort: 9465, extraArgs: ['--log-level=debug'] });
    const before = await generations(kube);
    const history = await recordStatuses(kube, name);
    const started = Date.now();
    leader.start();
    try {
      await waitForLog(leader, 'became leader');
      standby.start();
      await createUpgrade(kube, name, { ...quickSpec(kube), soak: { duration: '20s' } });
      await waitForUpgrade(kube, name, (u) => u.status?.phase === 'Soaking' && u.status.soak?.target === 'gateways', 'the gateways soak', 10 * 60_000);
      const cutAt = Date.now();
      proxy.blackHoleLeases = true;
      await waitForPhase(kube, name, ['Succeeded', 'Failed', 'RolledBack'], 15 * 60_000);
      const wallSeconds = Math.round((Date.now() - started) / 1000);
      const { done, restarts, jobs } = await checkEnd(kube, name, before, history);

      const lines = (p: OperatorProcess) => p.log().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { time: string; msg: string; action?: string });
      const a = lines(leader);
      const b = lines(standby);
      const lost = a.find((l) => l.msg.startsWith('lost the leader lease') && Date.parse(l.time) >= cutAt);
      const lastActing = a.filter((l) => l.msg === 'pass' || l.msg === 'action' || l.msg === 'status written').at(-1);
      const tookOver = b.find((l) => l.msg === 'became leader');
      const firstPassB = b.find((l) => l.msg === 'pass');
      console.log(`lease black-holed at ${new Date(cutAt).toISOString()}; replica A: last pass/write ${lastActing?.time ?? 'none'}, lost the lease ${lost?.time ?? 'never'}; replica B: became leader ${tookOver?.time ?? 'never'}, first pass ${firstPassB?.time ?? 'none'}`);
      assert.ok(lost !== undefined, 'the old leader noticed it lost the lease');
      assert.ok(tookOver !== undefined && lastActing !== undefined && firstPassB !== undefined);
      assert.ok(Date.parse(lastActing.time) < Date.parse(tookOver.time), 'the old leader acted after the new one took over');
      assert.ok(Date.parse(lost.time) < Date.parse(tookOver.time), 'the old leader stopped only after the takeover');
      assert.ok(!a.some((l) => l.msg === 'pass' && Date.parse(l.time) > Date.parse(lost.time)), 'no pass after losing the lease');
      rows.push({ scenario: 'Lease black-holed for the leader, a second replica direct', outcome: done.status?.phase ?? '?', wallSeconds, restartsPerWorkload: summarize(restarts), podsPerJob: summarize(jobs), operatorRestarts: 0, counters: { ...proxy.counters } });
    } finally {
      history.stop();
      await leader.stop().catch(() => undefined);
      await standby.stop().catch(() => undefined);
      await proxy.stop();
    }
  });
});

async function waitForLog(operator: OperatorProcess, message: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (operator.log().includes(`"msg":"${message}"`)) return;
    await sleep(500);
  }
  throw new Error(`the operator never logged "${message}"`);
}
