// The docs name every reason the operator can report and every metric it exports, and the API reference
// is generated from the schema.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { API_REFERENCE_FILE, renderApiReference } from '../../scripts/api-reference.ts';
import { BLOCKER_REASONS } from '../../src/core/plan-preview.ts';
import { reasonsOfKind } from '../../src/core/reasons.ts';
import { SKIP_REASONS } from '../../src/core/scope.ts';
import { OperatorMetrics } from '../../src/runtime/metrics.ts';

describe('docs', () => {
  it('troubleshooting.md explains every reason a person may see: failures, blockers and waits (from the Reason table)', () => {
    const doc = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');
    const reasons = reasonsOfKind('failure', 'blocked', 'waiting');
    assert.ok(reasons.length >= 40, `found ${reasons.length} reasons`);
    assert.deepEqual(reasons.filter((r) => !doc.includes(`| \`${r}\` |`)), []);
  });

  it('troubleshooting.md explains every reason the plan gives for a skipped workload or a blocker', () => {
    const doc = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');
    const planReasons = [...SKIP_REASONS, ...BLOCKER_REASONS];
    assert.deepEqual(planReasons.filter((r) => !doc.includes(`| \`${r}\` |`)), []);
  });

  it('metrics.md documents every metric the operator exports', async () => {
    const metrics = new OperatorMetrics(false);
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    assert.ok(names.length >= 10);
    assert.deepEqual(names.filter((n) => !doc.includes(`\`${n}\``)), []);
  });

  it('api-reference.md is generated from the schema (no drift)', () => {
    assert.equal(readFileSync(API_REFERENCE_FILE, 'utf8'), renderApiReference(), 'run `npm run generate` and commit');
  });
});

describe('Grafana dashboard', () => {
  it('queries only metrics the operator exports', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const exported = new Set((await new OperatorMetrics(false).registry.getMetricsAsJSON()).map((m) => m.name));
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b(istio_upgrade_[a-z_]+)/g)].map((m) => (m[1] ?? '').replace(/_(bucket|sum|count)$/, ''))));
    assert.ok(used.length >= 8);
    assert.deepEqual([...new Set(used)].filter((m) => !exported.has(m)), []);
  });
});
