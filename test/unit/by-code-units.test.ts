import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byCodeUnits } from '../../src/core/by-code-units.ts';

describe('byCodeUnits', () => {
  const cases: { a: string; b: string; sign: -1 | 0 | 1 }[] = [
    { a: 'app-0', b: 'app-1', sign: -1 },
    { a: 'app-10', b: 'app-9', sign: -1 },
    { a: 'b', b: 'a', sign: 1 },
    { a: 'same', b: 'same', sign: 0 },
    // Code units, not a locale's collation: '-' (0x2d) before digits, upper case before lower case.
    { a: 'web-x', b: 'web0', sign: -1 },
    { a: 'Zeta', b: 'alpha', sign: -1 },
    { a: '', b: 'a', sign: -1 },
  ];
  for (const { a, b, sign } of cases) {
    it(`orders ${JSON.stringify(a)} against ${JSON.stringify(b)} as ${sign}`, () => {
      assert.equal(Math.sign(byCodeUnits(a, b)), sign);
      assert.equal(Math.sign(byCodeUnits(b, a)), -sign || 0);
    });
  }

  it('sorts as the default Array.prototype.sort does', () => {
    const names = ['pod-b', 'Pod-a', 'pod-a', 'pod-10', 'pod-9', 'pod_1', 'pod.1', ''];
    assert.deepEqual([...names].sort(byCodeUnits), [...names].sort());
  });
});
