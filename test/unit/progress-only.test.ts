// Which status changes may wait to be written (progress only) and which are written at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IstioUpgradeStatus } from '../../src/api/schema.ts';
import { differsOnlyInProgress } from '../../src/core/progress-only.ts';

const condition = (type: 'Ready' | 'Reconciling', status: 'True' | 'False', reason: string, message: string, at = '2026-12-01T00:00:00Z') => ({ type, status, reason, message, observedGeneration: 1, lastTransitionTime: at });

const base: IstioUpgradeStatus = {
  phase: 'RollingOut',
  currentWave: 'rest',
  waves: [{ name: 'rest', state: 'InProgress', namespaces: ['a', 'b'], startedAt: '2026-12-01T00:00:00Z' }],
  workloads: { total: 10, upgraded: 3, pending: 7, skipped: 0 },
  upgraded: '3/10',
  conditions: [condition('Ready', 'False', 'RollingOut', 'wave "rest": 3/10 workloads'), condition('Reconciling', 'True', 'RollingOut', 'wave "rest": 3/10 workloads')],
};

describe('differsOnlyInProgress', () => {
  const cases: { name: string; next: IstioUpgradeStatus; onlyProgress: boolean }[] = [
    { name: 'the same status', next: structuredClone(base), onlyProgress: true },
    {
      name: 'counters, printer column and condition messages',
      next: {
        ...base,
        workloads: { total: 10, upgraded: 4, pending: 6, skipped: 0 },
        upgraded: '4/10',
        conditions: [condition('Ready', 'False', 'RollingOut', 'wave "rest": 4/10 workloads'), condition('Reconciling', 'True', 'RollingOut', 'wave "rest": 4/10 workloads')],
      },
      onlyProgress: true,
    },
    { name: 'the same members in another order', next: { conditions: base.conditions, upgraded: '5/10', waves: base.waves, currentWave: 'rest', phase: 'RollingOut', workloads: base.workloads }, onlyProgress: true },
    { name: 'a phase', next: { ...base, phase: 'Soaking' }, onlyProgress: false },
    { name: 'a namespace started', next: { ...base, waves: [{ name: 'rest', state: 'InProgress', namespaces: ['a', 'b', 'c'], startedAt: '2026-12-01T00:00:00Z' }] }, onlyProgress: false },
    { name: 'a condition reason', next: { ...base, conditions: [condition('Ready', 'False', 'Soaking', 'wave "rest": 3/10 workloads'), base.conditions?.[1] ?? condition('Reconciling', 'True', 'RollingOut', '')] }, onlyProgress: false },
    { name: 'a condition status', next: { ...base, conditions: [condition('Ready', 'True', 'RollingOut', 'wave "rest": 3/10 workloads'), base.conditions?.[1] ?? condition('Reconciling', 'True', 'RollingOut', '')] }, onlyProgress: false },
    { name: 'a condition transition time', next: { ...base, conditions: [condition('Ready', 'False', 'RollingOut', 'x', '2026-12-01T00:00:05Z'), base.conditions?.[1] ?? condition('Reconciling', 'True', 'RollingOut', '')] }, onlyProgress: false },
    { name: 'a condition added', next: { ...base, conditions: [...(base.conditions ?? []), condition('Ready', 'False', 'X', 'y')] }, onlyProgress: false },
    { name: 'a soak result', next: { ...base, soak: { target: 'wave rest', failures: 1 } }, onlyProgress: false },
    { name: 'a failure', next: { ...base, failure: { phase: 'RollingOut', reason: 'WorkloadTimeout', message: 'm' } }, onlyProgress: false },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.onlyProgress ? 'may wait' : 'is written at once'}`, () => {
      assert.equal(differsOnlyInProgress(base, c.next), c.onlyProgress);
      assert.equal(differsOnlyInProgress(c.next, base), c.onlyProgress);
    });
  }
});
