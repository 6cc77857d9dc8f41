// A memo brought up to date with the namespaces changed since it was made: built whole without epochs, when its
// inputs differ, when the epochs cannot tell, or when the update declines; the oldest keys go past its bound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EpochMemo } from '../../src/core/epoch-memo.ts';
import { NamespaceEpochLog } from '../../src/core/namespace-epochs.ts';

describe('epoch memo', () => {
  it('updates with the changed namespaces while the inputs and epochs hold, else builds', () => {
    const memo = new EpochMemo<string, string[]>(2, (a, b) => a === b);
    const epochs = new NamespaceEpochLog();
    const seen: string[] = [];
    let builds = 0;
    const get = (inputs: string, accept = true, withEpochs = true) =>
      memo.get('k', inputs, withEpochs ? epochs : undefined, () => {
        builds += 1;
        return [];
      }, (value, changed) => {
        if (!accept) return false;
        for (const ns of changed) seen.push(ns);
        value.push(...changed);
        return true;
      });
    const first = get('x');
    epochs.record(new Set(['a']));
    assert.equal(get('x'), first);
    assert.deepEqual(first, ['a']);
    assert.equal(builds, 1);
    assert.notEqual(get('y'), first, 'other inputs: built again');
    epochs.record(new Set(['b']));
    get('y', false);
    assert.equal(builds, 3, 'an update that declines: built again');
    get('y', true, false);
    get('y', true, false);
    assert.equal(builds, 5, 'without epochs: built every time');
    assert.deepEqual(seen, ['a']);
  });

  it('keeps at most its bound of keys, dropping the oldest', () => {
    const memo = new EpochMemo<number, object>(2, (a, b) => a === b);
    const epochs = new NamespaceEpochLog();
    const values = ['a', 'b', 'c'].map((key) => memo.get(key, 0, epochs, () => ({ key }), () => true));
    assert.equal(memo.get('c', 0, epochs, () => ({}), () => true), values[2]);
    assert.equal(memo.get('b', 0, epochs, () => ({}), () => true), values[1]);
    assert.notEqual(memo.get('a', 0, epochs, () => ({}), () => true), values[0], 'the oldest key was dropped');
  });
});
