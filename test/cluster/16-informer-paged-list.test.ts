// The informer's list is paginated (limit + continue, as client-go's reflector), so that a relist of a large
// cluster never holds the whole list of whole objects at once (issue 14). Against the real API server: every
// page is asked for with the previous page's token, the cache ends complete, and the watch resumes from the
// list's resourceVersion (an object created after the list arrives as an add).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { connect, kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { makeClients } from '../../src/kube/clients.ts';
import { loadConnection } from '../../src/kube/rest/kube-connection.ts';
import { Informer, type InformerEvent, type ListPage } from '../../src/kube/informer.ts';

const NAMESPACE = `informer-paged-${randomBytes(3).toString('hex')}`;
const SELECTOR = 'informer-paged=yes';

describe('informer: paginated list', () => {
  let kube: Kube;
  let core: CoreV1Api;

  before(async () => {
    kube = await connect();
    core = kube.config.makeApiClient(CoreV1Api);
    await kubectl(kube, ['create', 'namespace', NAMESPACE]);
    for (let i = 0; i < 7; i++) {
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: `cm-${i}`, labels: { 'informer-paged': 'yes' } }, data: { value: String(i) } } });
    }
  });

  after(async () => {
    await kubectl(kube, ['delete', 'namespace', NAMESPACE, '--wait=false']).catch(() => undefined);
  });

  it('lists 7 objects in pages of 3 with continue tokens, then watches from the list', async () => {
    const pages: ListPage[] = [];
    const events: { event: InformerEvent; name: string }[] = [];
    const informer = new Informer<V1ConfigMap, { name: string; value: string }>(makeClients(loadConnection(kube.info.kubeconfigPath)).watcher, {
      name: 'configmaps',
      path: `/api/v1/namespaces/${NAMESPACE}/configmaps`,
      labelSelector: SELECTOR,
      pageSize: 3,
      list: (page) => {
        pages.push(page);
        return core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: SELECTOR, ...page });
      },
      transform: (cm) => ({ name: cm.metadata?.name ?? '', value: cm.data?.value ?? '' }),
      onEvent: (event, object) => {
        events.push({ event, name: object.name });
      },
    });
    await informer.start();
    try {
      assert.equal(pages.length, 3, `pages asked: ${JSON.stringify(pages)}`);
      assert.deepEqual(pages.map((p) => p.limit), [3, 3, 3]);
      assert.equal(pages[0]?._continue, undefined);
      assert.ok(pages[1]?._continue !== undefined && pages[1]._continue !== '', 'the second page is asked with the first page\'s token');
      assert.ok(pages[2]?._continue !== undefined && pages[2]._continue !== pages[1]._continue, 'each page with the previous page\'s token');
      assert.deepEqual(informer.list(NAMESPACE).map((c) => c.name).sort(), ['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5', 'cm-6']);
      assert.equal(events.filter((e) => e.event === 'add').length, 7);
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: 'cm-late', labels: { 'informer-paged': 'yes' } }, data: { value: 'late' } } });
      await waitFor('the add after the list', () => Promise.resolve(informer.get('cm-late', NAMESPACE) !== undefined ? true : undefined), 30_000, 100);
      assert.deepEqual(events.at(-1), { event: 'add', name: 'cm-late' });
      assert.equal(events.length, 8, 'nothing listed is delivered twice');
      assert.equal(informer.health().lists, 1, 'one list: the watch carried on from it');
      assert.equal(informer.health().watches, 1, 'one watch request');
    } finally {
      informer.stop();
    }
  });
});
