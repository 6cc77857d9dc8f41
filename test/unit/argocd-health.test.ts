// The Argo CD health check, run by a real Lua 5.1 interpreter (what Argo CD embeds, via gopher-lua) against
// the fixtures of deploy/argocd/health_test.yaml, in Argo CD's own test format.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import yaml from 'js-yaml';

const dir = new URL('../../deploy/argocd/', import.meta.url);

/** A Lua table constructor for a JSON-like value. */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value).replace(/\\u([0-9a-f]{4})/g, (_m, hex: string) => `\\${Number.parseInt(hex, 16)}`);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`).join(', ')}}`;
  throw new Error(`cannot express ${typeof value} in Lua`);
}

function runHealth(object: unknown): { status: string; message: string } {
  const script = `obj = ${toLua(object)}\nlocal hs = dofile(${JSON.stringify(new URL('health.lua', dir).pathname)})\nio.write(hs.status, "\\n", hs.message)`;
  const out = execFileSync('lua5.1', ['-'], { input: script, encoding: 'utf8' });
  const [status = '', ...message] = out.split('\n');
  return { status, message: message.join('\n') };
}

interface HealthTest {
  healthStatus: { status: string; message: string };
  inputPath: string;
}

describe('Argo CD health check (Lua 5.1)', () => {
  const fixture = yaml.load(readFileSync(new URL('health_test.yaml', dir), 'utf8')) as { tests: HealthTest[] };
  for (const test of fixture.tests) {
    it(`${test.inputPath} -> ${test.healthStatus.status}`, () => {
      const object = yaml.load(readFileSync(new URL(test.inputPath, dir), 'utf8'));
      assert.deepEqual(runHealth(object), test.healthStatus);
    });
  }

  it('covers Healthy, Progressing, Degraded and Suspended', () => {
    assert.deepEqual([...new Set(fixture.tests.map((t) => t.healthStatus.status))].sort(), ['Degraded', 'Healthy', 'Progressing', 'Suspended']);
  });

  it('the argocd-cm snippet carries exactly health.lua', () => {
    const cm = yaml.load(readFileSync(new URL('argocd-cm.yaml', dir), 'utf8')) as { data: Record<string, string> };
    assert.equal(cm.data['resource.customizations.health.istioupgrade.dev_IstioUpgrade'], readFileSync(new URL('health.lua', dir), 'utf8'));
  });
});
