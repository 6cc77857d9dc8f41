// The docs name every reason the operator can report and every metric it exports, and the API reference
// is generated from the schema.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { API_REFERENCE_FILE, renderApiReference } from '../../scripts/api-reference.ts';
import { OperatorMetrics } from '../../src/runtime/metrics.ts';

function sources(dir: URL): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(new URL(`${entry.name}/`, dir)) : entry.name.endsWith('.ts') ? [readFileSync(new URL(entry.name, dir), 'utf8')] : [],
  );
}

describe('docs', () => {
  it('troubleshooting.md explains every failure and blocking reason', () => {
    const code = sources(new URL('../../src/', import.meta.url)).join('\n');
    const reasons = new Set<string>();
    for (const match of code.matchAll(/(?:fail|StalledError)\(\s*'([A-Z][A-Za-z]+)'/g)) reasons.add(match[1] ?? '');
    for (const match of code.matchAll(/fail\(\w+ \? '([A-Z][A-Za-z]+)' : '([A-Z][A-Za-z]+)'/g)) {
      reasons.add(match[1] ?? '');
      reasons.add(match[2] ?? '');
    }
    for (const match of code.matchAll(/kind: 'blocked', reason: '([A-Z][A-Za-z]+)'/g)) reasons.add(match[1] ?? '');
    for (const match of code.matchAll(/blockedStatus\([^)]*'([A-Z][A-Za-z]+)'/g)) reasons.add(match[1] ?? '');
    reasons.add('RollbackFailed');
    const doc = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');
    assert.ok(reasons.size >= 25, `found ${reasons.size} reasons`);
    const missing = [...reasons].filter((r) => !doc.includes(`| \`${r}\` |`));
    assert.deepEqual(missing, []);
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
