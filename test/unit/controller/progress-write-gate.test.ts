// Progress-only status changes wait for the interval since the last write; anything else, and the first write,
// go at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IstioUpgradeStatus } from '../../../src/api/schema.ts';
import { ProgressWriteGate } from '../../../src/controller/progress-write-gate.ts';

const written: IstioUpgradeStatus = { phase: 'RollingOut', upgraded: '3/10', workloads: { total: 10, upgraded: 3, pending: 7, skipped: 0 } };
const progressed: IstioUpgradeStatus = { ...written, upgraded: '4/10', workloads: { total: 10, upgraded: 4, pending: 6, skipped: 0 } };
const moved: IstioUpgradeStatus = { ...written, phase: 'Soaking' };

describe('ProgressWriteGate', () => {
  const cases: { name: string; lastWriteAt: number | undefined; now: number; next: IstioUpgradeStatus; wait: number | undefined }[] = [
    { name: 'the first write of this replica', lastWriteAt: undefined, now: 0, next: progressed, wait: undefined },
    { name: 'progress 200 ms after a write', lastWriteAt: 1_000, now: 1_200, next: progressed, wait: 800 },
    { name: 'progress once the interval is over', lastWriteAt: 1_000, now: 2_000, next: progressed, wait: undefined },
    { name: 'a phase change 200 ms after a write', lastWriteAt: 1_000, now: 1_200, next: moved, wait: undefined },
    { name: 'no change at all', lastWriteAt: 1_000, now: 1_200, next: structuredClone(written), wait: undefined },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.wait === undefined ? 'written now' : `waits ${c.wait} ms`}`, () => {
      const gate = new ProgressWriteGate(1_000);
      if (c.lastWriteAt !== undefined) gate.wrote('up', c.lastWriteAt);
      assert.equal(gate.wait('up', written, c.next, c.now), c.wait);
      // Per upgrade: another one's write holds nothing back.
      assert.equal(gate.wait('other', written, c.next, c.now), undefined);
    });
  }

  it('forgets a deleted upgrade', () => {
    const gate = new ProgressWriteGate(1_000);
    gate.wrote('up', 1_000);
    gate.forget('up');
    assert.equal(gate.wait('up', written, progressed, 1_100), undefined);
  });
});
