// Interning gives back one copy of equal strings, keeps labels' keys and values, and cannot grow without end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intern, internOptional, internValues } from '../../../src/kube/intern.ts';

describe('string interning for cached objects', () => {
  it('returns equal strings and labels unchanged in value', () => {
    const parsed = JSON.parse('{"a":"istio-proxy","b":"istio-proxy"}') as Record<string, string>;
    assert.equal(intern(parsed.a ?? ''), 'istio-proxy');
    assert.equal(intern(parsed.b ?? ''), intern(parsed.a ?? ''));
    assert.equal(internOptional(undefined), undefined);
    assert.deepEqual(internValues({ app: 'x', 'security.istio.io/tlsMode': 'istio' }), { app: 'x', 'security.istio.io/tlsMode': 'istio' });
    assert.deepEqual(internValues(undefined), {});
  });

  it('keeps working past its bound (the table starts over)', () => {
    for (let i = 0; i < 25_000; i++) assert.equal(intern(`unique-${i}`), `unique-${i}`);
    assert.equal(intern('after-the-bound'), 'after-the-bound');
  });
});
