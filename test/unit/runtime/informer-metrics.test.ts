// The informer metrics are read from the informers at each scrape: what a scrape shows is what they count then.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InformerHealth } from '../../../src/kube/informer.ts';
import { OperatorMetrics } from '../../../src/runtime/metrics.ts';

const health = (name: string, lists: number, watches: number, up = true): InformerHealth => ({ name, up, lastError: undefined, lastStatusCode: undefined, lastSyncMs: 0, failingForMs: 0, lists, watches });

function sample(text: string, metric: string, informer: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{informer="${informer}"} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('informer metrics', () => {
  it('show each informer\'s lists, watches and state as of the scrape', async () => {
    const metrics = new OperatorMetrics(false);
    let informers = [health('pods', 1, 1), health('namespaces', 1, 3)];
    metrics.observeInformers(() => informers);
    let text = await metrics.registry.metrics();
    assert.equal(sample(text, 'istio_upgrade_informer_lists_total', 'pods'), 1);
    assert.equal(sample(text, 'istio_upgrade_informer_watches_total', 'namespaces'), 3);
    assert.equal(sample(text, 'istio_upgrade_informer_up', 'pods'), 1);
    informers = [health('pods', 2, 2, false), health('namespaces', 1, 4)];
    text = await metrics.registry.metrics();
    assert.equal(sample(text, 'istio_upgrade_informer_lists_total', 'pods'), 2, 'a relist shows at the next scrape');
    assert.equal(sample(text, 'istio_upgrade_informer_watches_total', 'pods'), 2);
    assert.equal(sample(text, 'istio_upgrade_informer_watches_total', 'namespaces'), 4);
    assert.equal(sample(text, 'istio_upgrade_informer_up', 'pods'), 0);
  });
});
