// Issue 15, item 4: at least 1,000 random and malformed specs, and hand edits of the status, sent to the real
// API server (dry run: validation, defaulting, pruning and CEL all run, nothing is stored). Each spec is
// rejected by the schema or CEL, or accepted; an accepted one is then driven through the real planner over the
// in-memory sample mesh: a refused one must end Failed with its documented reason having done nothing, and
// none may throw, busy-loop, or end on a reason the docs do not list. The operator is not running: nothing
// touches the mesh.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, PLURAL } from '../../src/api/constants.ts';
import { IstioUpgradeSchema } from '../../src/api/schema.ts';
import { isTerminal } from '../../src/core/plan.ts';
import { connect, type Kube } from '../../hack/e2e/kube.ts';
import { installOperatorManifests } from '../../hack/e2e/operator.ts';
import { deleteUpgrade } from '../../hack/e2e/upgrades.ts';
import { undocumentedReasons, walkSafely } from '../support/fuzz-walk.ts';
import { baseSpec, fuzzCase, prng, statusEdit, type FuzzCase } from '../support/spec-fuzz.ts';

const SPECS = 1000;
const STATUS_EDITS = 200;
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const ref = { group: API_GROUP, version: API_VERSION, plural: PLURAL };

interface Counts {
  rejected: number;
  refused: number;
  accepted: number;
  terminal: number;
  waiting: number;
  statusRejected: number;
  statusAccepted: number;
}

type Verdict = { kind: 'rejected'; message: string } | { kind: 'accepted'; object: unknown };

async function verdict(request: () => Promise<unknown>): Promise<Verdict> {
  try {
    return { kind: 'accepted', object: await request() };
  } catch (error) {
    if (error instanceof ApiException && (error.code === 422 || error.code === 400)) return { kind: 'rejected', message: String(error.body).slice(0, 300) };
    throw error;
  }
}

/** What is wrong with how one case was treated, if anything; counts what became of it. */
function judgeCase(c: FuzzCase, v: Verdict, counts: Counts, count: (reason: string) => void): string | undefined {
  const problems: string[] = [];
  if (c.expect.kind === 'reject') {
    if (v.kind !== 'rejected') return `accepted, should be rejected`;
    counts.rejected++;
    // The plan command parses manifests with the same schema: it must refuse what the API server does.
    const local = IstioUpgradeSchema.safeParse({ apiVersion: 'x', kind: 'IstioUpgrade', metadata: { name: 'x', uid: 'x', creationTimestamp: 'x' }, spec: c.spec });
    if (local.success) problems.push(`the API server rejects it (${v.message}) but the operator's schema accepts it`);
    return problems[0];
  }
  if (v.kind === 'rejected') return `rejected (${v.message}), should be accepted`;
  const parsed = IstioUpgradeSchema.safeParse(v.object);
  if (!parsed.success) return `the API server accepts it but the operator cannot parse it: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`;
  const outcome = walkSafely(parsed.data);
  if (outcome.thrown !== undefined) return `the planner threw ${outcome.thrown}`;
  if (outcome.busy) return `busy loop after ${outcome.passes} passes in ${outcome.end.status.phase ?? '?'}`;
  const undocumented = undocumentedReasons(outcome.end);
  if (undocumented.length > 0) problems.push(`ends on ${undocumented.join(', ')}`);
  const stalled = outcome.end.status.conditions?.find((x) => x.type === 'Stalled' && x.status === 'True');
  if (c.expect.kind === 'refuse') {
    counts.refused++;
    if (outcome.end.status.phase !== 'Failed' || stalled === undefined || !c.expect.reasons.includes(stalled.reason)) return `ended ${outcome.end.status.phase ?? '?'} ${stalled?.reason ?? ''}, should fail with ${c.expect.reasons.join('|')}`;
    if (outcome.actions > 0) return `refused, yet ${outcome.actions} action(s) ran`;
    count(stalled.reason);
    return problems[0];
  }
  counts.accepted++;
  if (isTerminal(outcome.end.status.phase)) counts.terminal++;
  else counts.waiting++;
  count(`${outcome.end.status.phase ?? '?'}${stalled === undefined ? '' : `/${stalled.reason}`}`);
  return problems[0];
}

describe('input fuzz: random and malformed specs and status edits (issue 15)', { timeout: 15 * 60_000 }, () => {
  let kube: Kube;
  const counts: Counts = { rejected: 0, refused: 0, accepted: 0, terminal: 0, waiting: 0, statusRejected: 0, statusAccepted: 0 };
  const reasons = new Map<string, number>();
  const count = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);

  before(async () => {
    kube = await connect();
    await installOperatorManifests(kube);
  });

  after(async () => {
    await deleteUpgrade(kube, 'fuzz-status');
    console.log(`fuzz (seed ${SEED}): ${SPECS} specs: ${counts.rejected} rejected by the API server, ${counts.refused} refused at the precheck, ${counts.accepted} accepted (${counts.terminal} ran to an end, ${counts.waiting} waiting); ${STATUS_EDITS} status edits: ${counts.statusRejected} rejected, ${counts.statusAccepted} accepted; reasons ${JSON.stringify(Object.fromEntries([...reasons].sort()))}`);
  });

  it(`${SPECS} specs: each rejected, refused with its reason having done nothing, or run without throwing or busy-looping`, async () => {
    const rnd = prng(SEED);
    const cases: FuzzCase[] = Array.from({ length: SPECS }, () => fuzzCase(rnd));
    const failures: string[] = [];
    const CONCURRENCY = 8;
    for (let i = 0; i < cases.length; i += CONCURRENCY) {
      const batch = cases.slice(i, i + CONCURRENCY);
      const verdicts = await Promise.all(
        batch.map((c, j) =>
          verdict(() => kube.custom.createClusterCustomObject({ ...ref, dryRun: 'All', body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'IstioUpgrade', metadata: { name: `fuzz-${i + j}` }, spec: c.spec } })),
        ),
      );
      batch.forEach((c, j) => {
        const problem = judgeCase(c, verdicts[j] as Verdict, counts, count);
        if (problem !== undefined) failures.push(`#${i + j} [${c.mutations.join('; ')}]: ${problem}`);
      });
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failing case(s)`);
    assert.ok(counts.rejected > 300 && counts.refused > 30 && counts.accepted > 50, JSON.stringify(counts));
  });

  it('720h is the longest duration: admitted, planned without a busy loop (the grace period waits quietly); 721h and 720h1ms are refused by CEL', async () => {
    const create = (gracePeriod: string) => verdict(() => kube.custom.createClusterCustomObject({ ...ref, dryRun: 'All', body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'IstioUpgrade', metadata: { name: 'fuzz-720h' }, spec: { ...baseSpec(), uninstall: { gracePeriod } } } }));
    for (const tooLong of ['721h', '720h1ms', '43201m']) {
      const v = await create(tooLong);
      assert.equal(v.kind, 'rejected', tooLong);
      assert.match(v.kind === 'rejected' ? v.message : '', /spec\.uninstall\.gracePeriod.*must be at most 720h \(30 days\)/s);
    }
    const accepted = await create('720h');
    assert.equal(accepted.kind, 'accepted');
    const parsed = IstioUpgradeSchema.parse(accepted.kind === 'accepted' ? accepted.object : undefined);
    const outcome = walkSafely(parsed);
    assert.equal(outcome.thrown, undefined);
    assert.equal(outcome.busy, false);
    assert.equal(outcome.end.status.phase, 'Uninstalling');
    assert.equal(outcome.end.status.conditions?.find((c) => c.type === 'Reconciling')?.reason, 'GracePeriod', JSON.stringify(outcome.end.status.conditions));
    // Past setTimeout's 24.8-day limit: the work queue clamps it to an hour (test/unit/work-queue.test.ts).
    assert.ok((outcome.lastRequeueMs ?? 0) > 25 * 24 * 3_600_000, String(outcome.lastRequeueMs));
    console.log(`720h: 721h/720h1ms/43201m rejected by CEL; 720h admitted and the walk ends waiting in ${outcome.end.status.phase ?? '?'} (GracePeriod) after ${outcome.passes} passes, next look asked in ${Math.round((outcome.lastRequeueMs ?? 0) / 3_600_000)}h (clamped to 1h by the work queue), no busy loop`);
  });

  it(`${STATUS_EDITS} hand edits of the status: rejected, or planned from without throwing, busy-looping or an undocumented reason`, async () => {
    await kube.custom.createClusterCustomObject({ ...ref, body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'IstioUpgrade', metadata: { name: 'fuzz-status' }, spec: { ...baseSpec(), paused: false } } });
    const rnd = prng(SEED + 1);
    const failures: string[] = [];
    for (let i = 0; i < STATUS_EDITS; i++) {
      const edit = statusEdit(rnd);
      const v = await verdict(() =>
        kube.custom.patchClusterCustomObjectStatus({ ...ref, name: 'fuzz-status', dryRun: 'All', body: { status: edit } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      );
      const where = `status edit #${i} ${JSON.stringify(edit).slice(0, 200)}`;
      if (v.kind === 'rejected') {
        counts.statusRejected++;
        continue;
      }
      counts.statusAccepted++;
      const parsed = IstioUpgradeSchema.safeParse(v.object);
      if (!parsed.success) {
        failures.push(`${where}: stored by the API server but the operator cannot read it: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
        continue;
      }
      const outcome = walkSafely(parsed.data);
      if (outcome.thrown !== undefined) failures.push(`${where}: the planner threw ${outcome.thrown}`);
      else if (outcome.busy) failures.push(`${where}: busy loop in ${outcome.end.status.phase ?? '?'}`);
      else {
        const undocumented = undocumentedReasons(outcome.end);
        if (undocumented.length > 0) failures.push(`${where}: ends on ${undocumented.join(', ')}`);
      }
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failing edit(s)`);
    assert.ok(counts.statusRejected > 10 && counts.statusAccepted > 10, JSON.stringify(counts));
  });
});
