import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InformerHealth } from '../../../src/kube/informer.ts';
import { liveness } from '../../../src/runtime/liveness.ts';

const limits = { stuckAfterMs: 600_000, informerDownLimitMs: 300_000 };
const informer = (name: string, failingForMs: number, up = failingForMs === 0): InformerHealth => ({ name, up, lastError: failingForMs > 0 ? 'fetch failed' : undefined, lastStatusCode: undefined, lastSyncMs: 0, failingForMs, lists: 1, watches: 1 });

describe('liveness (/healthz)', () => {
  const cases: { name: string; stuckForMs: number; informers: InformerHealth[]; ok: boolean; detail?: RegExp }[] = [
    { name: 'all informers up, passes finishing', stuckForMs: 0, informers: [informer('pods', 0), informer('namespaces', 0)], ok: true },
    { name: 'an informer down for a minute (a watch cut, an API server restart): still alive, it retries', stuckForMs: 0, informers: [informer('pods', 60_000)], ok: true },
    { name: 'an informer down just at the limit: alive', stuckForMs: 0, informers: [informer('pods', 300_000)], ok: true },
    { name: 'an informer down beyond the limit: restart', stuckForMs: 0, informers: [informer('pods', 300_001), informer('namespaces', 0)], ok: false, detail: /pods \(fetch failed\)/ },
    { name: 'no pass finished for longer than the bound while work waits: restart', stuckForMs: 600_001, informers: [informer('pods', 0)], ok: false, detail: /no reconcile finished/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = liveness(c.stuckForMs, c.informers, limits);
      assert.equal(result.ok, c.ok, result.detail);
      if (c.detail !== undefined) assert.match(result.detail, c.detail);
    });
  }
});
