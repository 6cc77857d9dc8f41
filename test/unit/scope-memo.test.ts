// scopedWorkload gives exactly classifyWorkload's answer: reused while the workload object and every
// input it reads from the context are the same, recomputed as soon as one of them changes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ISTIO_REV_LABEL } from '../../src/api/constants.ts';
import type { WorkloadState } from '../../src/core/observed.ts';
import { classifyWorkload, type ScopeContext } from '../../src/core/scope.ts';
import { scopedWorkload } from '../../src/core/scope-memo.ts';

const classifyWorkloadRemembered = (w: WorkloadState, context: ScopeContext) => scopedWorkload(w, context).scope;
import { OLD, injectorWebhook, shopScopeContext, tagWebhook, workload } from '../support/fixtures.ts';

const base: ScopeContext = shopScopeContext();

/** One change of the context per row, applied to the same workload object in turn. */
const steps: { name: string; context: ScopeContext; expect: string }[] = [
  { name: 'on the tag', context: base, expect: 'move:default' },
  { name: 'the namespace pinned to the old revision (new labels object)', context: { ...base, namespaces: new Map([['shop', { [ISTIO_REV_LABEL]: OLD.revision }]]) }, expect: 'NotOnTag' },
  { name: 'pinned, and adoption on', context: { ...base, namespaces: new Map([['shop', { [ISTIO_REV_LABEL]: OLD.revision }]]), adoptPinnedNamespaces: true }, expect: 'move:default' },
  { name: 'back on the tag', context: base, expect: 'move:default' },
  { name: 'excluded', context: { ...base, excludedNamespaces: new Set(['shop']) }, expect: 'ExcludedNamespace' },
  { name: 'another tag moved', context: { ...base, tags: ['canary'] }, expect: 'NotOnTag' },
  { name: 'the tag webhook gone', context: { ...base, webhooks: [injectorWebhook(OLD.revision)] }, expect: 'NotInjected' },
  { name: 'the tag webhook back (new objects)', context: { ...base, webhooks: [injectorWebhook(OLD.revision), tagWebhook('default', OLD.revision)] }, expect: 'move:default' },
];

function label(scope: ReturnType<typeof classifyWorkload>): string {
  return scope.move ? `move:${scope.tag}` : scope.reason;
}

describe('classification remembered across passes', () => {
  it('follows every change of its inputs, and equals a fresh classification each time', () => {
    const w: WorkloadState = workload('shop', 'cart', OLD.revision);
    for (const step of steps) {
      const remembered = classifyWorkloadRemembered(w, step.context);
      assert.equal(label(remembered), step.expect, step.name);
      assert.deepEqual(remembered, classifyWorkload({ ...w }, step.context), step.name);
    }
  });

  it('returns the same answer object while nothing changed, even from a new but equal context', () => {
    const w = workload('shop', 'cart', OLD.revision);
    const first = classifyWorkloadRemembered(w, base);
    assert.equal(classifyWorkloadRemembered(w, { ...base, tags: ['default'], excludedNamespaces: new Set(['elsewhere']) }), first);
  });

  it('a changed workload is a new object, classified afresh', () => {
    const w = workload('shop', 'cart', OLD.revision);
    assert.equal(label(classifyWorkloadRemembered(w, base)), 'move:default');
    const paused: WorkloadState = { ...w, update: 'paused' };
    assert.equal(label(classifyWorkloadRemembered(paused, base)), 'PausedDeployment');
  });
});

describe('the scoped pair', () => {
  it('is the same object while nothing changed, so a pass allocates nothing for an unchanged workload', () => {
    const w = workload('shop', 'cart', OLD.revision);
    const first = scopedWorkload(w, base);
    assert.equal(first.workload, w);
    assert.equal(scopedWorkload(w, { ...base }), first);
  });
});
