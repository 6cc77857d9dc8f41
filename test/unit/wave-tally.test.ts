// The wave tally updated namespace by namespace always answers what a walk of every namespace answers: the
// namespaces admitted (those under way, then the next pending ones in wave order), the sums, and whether the
// wave is done; also when namespaces go back (a stamp removed by hand) or are listed twice.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkloadState } from '../../src/core/observed.ts';
import { WaveTally, shareDone, type WaveShare } from '../../src/core/wave-tally.ts';
import { workload } from '../support/fixtures.ts';

const moved = (n: number): WorkloadState[] => Array.from({ length: n }, (_, i) => workload('ns', `w${i}`, 'old'));

/** The walk rollingOut did before the tally. */
function walked(shares: readonly WaveShare[], maxConcurrent: number) {
  const active = shares.filter((e) => e.started && !shareDone(e));
  const free = Math.max(0, maxConcurrent - active.length);
  const admitted = [...active, ...shares.filter((e) => !e.started && !shareDone(e)).slice(0, free)];
  return {
    admitted: admitted.map((e) => e.ns),
    nothingToDo: shares.every((e) => e.moved.length === 0 && !e.adopt),
    allDone: shares.every(shareDone),
    upgraded: shares.reduce((sum, e) => sum + e.upgraded, 0),
    total: shares.reduce((sum, e) => sum + e.moved.length, 0),
  };
}

function tallied(tally: WaveTally, maxConcurrent: number) {
  return { admitted: tally.admitted(maxConcurrent).map((e) => e.ns), nothingToDo: tally.nothingToDo, allDone: tally.allDone, upgraded: tally.upgraded, total: tally.total };
}

/** A small deterministic generator, so that a failure replays. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function randomShare(ns: string, next: () => number): WaveShare {
  const total = Math.floor(next() * 3);
  return { ns, adopt: next() < 0.1, moved: moved(total), upgraded: Math.floor(next() * (total + 1)), started: next() < 0.5 };
}

describe('wave tally', () => {
  for (const seed of [1, 7, 42, 2026]) {
    it(`answers as the walk after every update (seed ${seed})`, () => {
      const next = random(seed);
      const namespaces = Array.from({ length: 30 }, (_, i) => `ns-${String(i).padStart(2, '0')}`);
      const shares = new Map<string, WaveShare>(namespaces.map((ns) => [ns, { ns, adopt: false, moved: moved(2), upgraded: 0, started: false }]));
      const tally = new WaveTally(namespaces, (ns) => shares.get(ns) ?? randomShare(ns, next));
      for (let step = 0; step < 400; step++) {
        const max = 1 + Math.floor(next() * 5);
        assert.deepEqual(tallied(tally, max), walked(namespaces.map((ns) => shares.get(ns) ?? randomShare(ns, next)), max), `step ${step}`);
        const ns = namespaces[Math.floor(next() * namespaces.length)] ?? 'ns-00';
        const share = randomShare(ns, next);
        shares.set(ns, share);
        tally.update(ns, share);
      }
    });
  }

  it('a namespace listed twice is counted twice, and the tally is not updated namespace by namespace', () => {
    const share = { ns: 'a', adopt: false, moved: moved(1), upgraded: 0, started: false };
    const tally = new WaveTally(['a', 'a'], () => share);
    assert.equal(tally.updatable, false);
    assert.equal(tally.total, 2);
    assert.deepEqual(tallied(tally, 5), walked([share, share], 5));
  });

  it('a wave with nothing to move has nothing to do and is done', () => {
    const tally = new WaveTally(['a', 'b'], (ns) => ({ ns, adopt: false, moved: [], upgraded: 0, started: false }));
    assert.equal(tally.nothingToDo, true);
    assert.equal(tally.allDone, true);
    assert.deepEqual(tally.admitted(3), []);
  });
});
