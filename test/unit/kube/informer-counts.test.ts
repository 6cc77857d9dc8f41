// The informer counts its lists and watches (exported as istio_upgrade_informer_{lists,watches}_total): a watch
// that resumes costs the API server little, a relist a read of every object, so an operator that relists often
// must show it. A scripted watcher stands in for the API server: the order of watch endings is the point here,
// not the protocol (the cluster tests cover that).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { Informer, type ListPage } from '../../../src/kube/informer.ts';
import type { Watcher } from '../../../src/kube/rest/rest-client.ts';
import { pollUntil } from '../../support/poll.ts';

type Ending = { kind: 'server-end' } | { kind: 'gone' };

/** Each watch request takes the next ending; once none is left the watch stays open until aborted. */
function scriptedWatcher(endings: Ending[], asked: { resourceVersion: unknown }[]): Watcher {
  return {
    watch(_path, query, callback, done) {
      asked.push({ resourceVersion: query.resourceVersion });
      const controller = new AbortController();
      const ending = endings.shift();
      setImmediate(() => {
        if (ending?.kind === 'gone') callback('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
        else if (ending?.kind === 'server-end') done(undefined);
      });
      controller.signal.addEventListener('abort', () => {
        done(new Error('aborted'));
      });
      return Promise.resolve(controller);
    },
  };
}

function informer(watcher: Watcher, lists: ListPage[]): Informer<V1ConfigMap, string> {
  let version = 0;
  return new Informer<V1ConfigMap, string>(watcher, {
    name: 'configmaps',
    path: '/api/v1/configmaps',
    list: (page) => {
      lists.push(page);
      version += 1;
      return Promise.resolve({ items: [{ metadata: { name: 'a', namespace: 'n', resourceVersion: String(version) } }], metadata: { resourceVersion: String(version) } });
    },
    transform: (cm) => cm.metadata?.name ?? '',
    onEvent: () => undefined,
    backoff: { minMs: 1, maxMs: 1 },
  });
}

describe('informer: lists and watches counted', () => {
  const cases: { name: string; endings: Ending[]; lists: number; watches: number }[] = [
    { name: 'one list, one watch while all is well', endings: [], lists: 1, watches: 1 },
    { name: 'a watch the server ends resumes without a list', endings: [{ kind: 'server-end' }, { kind: 'server-end' }], lists: 1, watches: 3 },
    { name: 'a 410 Gone relists, then watches again', endings: [{ kind: 'gone' }], lists: 2, watches: 2 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const asked: { resourceVersion: unknown }[] = [];
      const pages: ListPage[] = [];
      const subject = informer(scriptedWatcher([...c.endings], asked), pages);
      await subject.start();
      await pollUntil(() => asked.length >= c.watches && pages.length >= c.lists);
      await new Promise((resolve) => setTimeout(resolve, 20)); // nothing more comes
      subject.stop();
      const health = subject.health();
      assert.equal(health.lists, c.lists, 'lists');
      assert.equal(pages.length, c.lists, 'list requests made');
      assert.equal(health.watches, c.watches, 'watches');
      assert.equal(asked.length, c.watches, 'watch requests made');
    });
  }
});
