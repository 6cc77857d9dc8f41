// The informer against a real watch: an update that changes nothing of what the cache keeps (here a
// ConfigMap's annotations, for a cache that keeps its data) wakes nobody and keeps the cached object as it
// was; an update of what it keeps is delivered. This is what stops ReplicaSet counters and status heartbeats
// from triggering reconcile passes (issue 14).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { connect, kubectl, waitFor, type Kube } from '../../hack/e2e/kube.ts';
import { makeClients } from '../../src/kube/clients.ts';
import { loadConnection } from '../../src/kube/rest/kube-connection.ts';
import { Informer, type InformerEvent } from '../../src/kube/informer.ts';

const NAMESPACE = `informer-quiet-${randomBytes(3).toString('hex')}`;

describe('informer: updates that change nothing kept are quiet', () => {
  let kube: Kube;
  let core: CoreV1Api;

  before(async () => {
    kube = await connect();
    core = kube.config.makeApiClient(CoreV1Api);
    await kubectl(kube, ['create', 'namespace', NAMESPACE]).catch(() => undefined);
  });

  after(async () => {
    await kubectl(kube, ['delete', 'namespace', NAMESPACE, '--wait=false']).catch(() => undefined);
  });

  it('delivers add and data changes; annotation-only updates are not delivered and keep the cached object', async () => {
    const events: { event: InformerEvent; data: string }[] = [];
    const informer = new Informer<V1ConfigMap, { name: string; data: string }>(makeClients(loadConnection(kube.info.kubeconfigPath)).watcher, {
      name: 'configmaps',
      path: `/api/v1/namespaces/${NAMESPACE}/configmaps`,
      labelSelector: 'informer-test=yes',
      list: () => core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: 'informer-test=yes' }),
      transform: (cm) => ({ name: cm.metadata?.name ?? '', data: cm.data?.value ?? '' }),
      onEvent: (event, object) => {
        events.push({ event, data: object.data });
      },
    });
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: 'probe', labels: { 'informer-test': 'yes' } }, data: { value: 'one' } } });
      await waitFor('the add', () => Promise.resolve(events.length >= 1 ? true : undefined), 30_000, 100);
      const cached = informer.get('probe', NAMESPACE);
      const listed = informer.list();
      for (let i = 0; i < 5; i++) await kubectl(kube, ['annotate', '-n', NAMESPACE, 'configmap', 'probe', `beat=${i}`, '--overwrite']);
      // The whole list is the same array while nothing kept changes (callers reuse what they derived from it).
      assert.equal(informer.list(), listed);
      await kubectl(kube, ['patch', '-n', NAMESPACE, 'configmap', 'probe', '--type=merge', '-p', '{"data":{"value":"two"}}']);
      // Watch events arrive in order: once the data change is seen, the five annotation updates were handled.
      await waitFor('the data change', () => Promise.resolve(events.some((e) => e.data === 'two') ? true : undefined), 30_000, 100);
      assert.deepEqual(events, [{ event: 'add', data: 'one' }, { event: 'update', data: 'two' }]);
      assert.equal(informer.get('probe', NAMESPACE)?.data, 'two');
      assert.notEqual(informer.get('probe', NAMESPACE), cached);
      const relisted = informer.list();
      assert.notEqual(relisted, listed);
      assert.deepEqual(relisted.map((c) => c.data), ['two']);
      assert.equal(informer.list(), relisted);
    } finally {
      informer.stop();
    }
  });
});
