// The HTTP client on its own, against a loopback stand-in: what each call sends (method, path, query, patch
// type, credentials), how error answers surface, and how a watch stream is split into events, however the
// server chunks it. The real API server's side is covered by the cluster tests (informers, status writes).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { classifyApiError, isAlreadyExists, statusCodeOf } from '../../../src/kube/api-errors.ts';
import { makeClients } from '../../../src/kube/clients.ts';
import { PATCH_TYPES, microTime } from '../../../src/kube/rest/api-groups.ts';
import type { KubeConnection } from '../../../src/kube/rest/kube-connection.ts';
import { LOOPBACK_TLS, json, listenOnLoopback } from '../../support/loopback-api.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: string;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('REST client: requests', () => {
  let server: Server;
  let connection: KubeConnection;
  const seen: Seen[] = [];
  let answer: (res: ServerResponse) => void = (res) => { json(res, 200, { metadata: { resourceVersion: '7' } }); };

  before(async () => {
    server = createServer((req, res) => {
      void readBody(req).then((body) => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
        answer(res);
      });
    });
    connection = await listenOnLoopback(server);
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const cases = [
    {
      name: 'a merge patch of a Deployment',
      call: (c: ReturnType<typeof makeClients>) => c.apps.patchNamespacedDeployment({ namespace: 'ns', name: 'web', body: { spec: {} } }, { contentType: PATCH_TYPES.merge }),
      expect: { method: 'PATCH', url: '/apis/apps/v1/namespaces/ns/deployments/web', contentType: 'application/merge-patch+json', body: '{"spec":{}}' },
    },
    {
      name: 'a server-side apply of a Service, with its field manager and force',
      call: (c: ReturnType<typeof makeClients>) => c.core.patchNamespacedService({ namespace: 'istio-system', name: 'istiod', body: { metadata: {} }, fieldManager: 'iuo', force: true }, { contentType: PATCH_TYPES.apply }),
      expect: { method: 'PATCH', url: '/api/v1/namespaces/istio-system/services/istiod?fieldManager=iuo&force=true', contentType: 'application/apply-patch+yaml', body: '{"metadata":{}}' },
    },
    {
      name: 'a JSON patch of a status subresource',
      call: (c: ReturnType<typeof makeClients>) => c.custom.patchClusterCustomObjectStatus({ group: 'g.dev', version: 'v1', plural: 'things', name: 'a', body: [{ op: 'add', path: '/status', value: {} }] }, { contentType: PATCH_TYPES.json }),
      expect: { method: 'PATCH', url: '/apis/g.dev/v1/things/a/status', contentType: 'application/json-patch+json', body: '[{"op":"add","path":"/status","value":{}}]' },
    },
    {
      name: 'an eviction',
      call: (c: ReturnType<typeof makeClients>) => c.core.createNamespacedPodEviction({ namespace: 'n', name: 'p', body: { kind: 'Eviction' } }),
      expect: { method: 'POST', url: '/api/v1/namespaces/n/pods/p/eviction', contentType: 'application/json', body: '{"kind":"Eviction"}' },
    },
    {
      name: 'a conditional delete',
      call: (c: ReturnType<typeof makeClients>) => c.rbac.deleteClusterRoleBinding({ name: 'b', body: { preconditions: { resourceVersion: '3' } } }),
      expect: { method: 'DELETE', url: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/b', contentType: 'application/json', body: '{"preconditions":{"resourceVersion":"3"}}' },
    },
    {
      name: 'a list with selectors and a page (names in the path are escaped)',
      call: (c: ReturnType<typeof makeClients>) => c.core.listNamespacedService({ namespace: 'a b', labelSelector: 'istio.io/rev', limit: 10 }),
      expect: { method: 'GET', url: '/api/v1/namespaces/a%20b/services?limit=10&labelSelector=istio.io%2Frev', contentType: undefined, body: '' },
    },
  ];
  for (const c of cases) {
    it(`sends ${c.name} as the API expects, with the bearer token`, async () => {
      seen.length = 0;
      answer = (res) => { json(res, 200, { metadata: { resourceVersion: '7' } }); };
      const result = await c.call(makeClients(connection));
      assert.deepEqual(result, { metadata: { resourceVersion: '7' } });
      assert.deepEqual(seen, [{ ...c.expect, authorization: 'Bearer t' }]);
    });
  }

  it('turns an error answer into an error with its code, Status body and headers', async () => {
    answer = (res) => {
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'AlreadyExists', message: 'configmaps "x" already exists' }));
    };
    const error = await makeClients(connection).core.createNamespacedConfigMap({ namespace: 'n', body: { metadata: { name: 'x' } } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.equal(statusCodeOf(error), 409);
    assert.equal(isAlreadyExists(error), true);
    answer = (res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end(JSON.stringify({ kind: 'Status', message: 'slow down' }));
    };
    const throttled = await makeClients(connection).core.listNamespace().then(
      () => undefined,
      (e: unknown) => e,
    );
    const classified = classifyApiError(throttled, 'list namespaces');
    assert.equal(classified.name, 'TransientError');
    assert.match(classified.message, /HTTP 429.*slow down/);
    assert.equal((classified as Error & { retryAfterMs?: number }).retryAfterMs, 3000);
  });

  it('a 401 to a credential that can be renewed (exec plugin) is sent again once with the renewed one; a fixed token gets the 401', async () => {
    let current = 'Bearer old';
    const renewable: KubeConnection = {
      ...connection,
      authorization: () => Promise.resolve(current),
      unauthorized: (rejected) => {
        if (rejected === current) current = current === 'Bearer old' ? 'Bearer new' : 'Bearer newer';
        return true;
      },
    };
    answer = (res) => { json(res, seen.at(-1)?.authorization === 'Bearer new' ? 200 : 401, { kind: 'Status', code: 401 }); };
    seen.length = 0;
    await makeClients(renewable).core.listNamespace();
    assert.deepEqual(seen.map((s) => s.authorization), ['Bearer old', 'Bearer new']);

    // Rejected again after renewal: once only, then the 401 surfaces.
    answer = (res) => { json(res, 401, { kind: 'Status', code: 401 }); };
    seen.length = 0;
    const twice = await makeClients(renewable).core.listNamespace().then(() => undefined, (e: unknown) => e);
    assert.equal(statusCodeOf(twice), 401);
    assert.deepEqual(seen.map((s) => s.authorization), ['Bearer new', 'Bearer newer']);

    seen.length = 0;
    const fixed = await makeClients(connection).core.listNamespace().then(() => undefined, (e: unknown) => e);
    assert.equal(statusCodeOf(fixed), 401);
    assert.equal(seen.length, 1, 'a fixed token is not sent twice');
  });

  it('writes MicroTime with six fractional digits', () => {
    assert.equal(microTime(Date.UTC(2026, 11, 1, 20, 0, 0, 123)), '2026-12-01T20:00:00.123000Z');
  });
});

describe('REST client: memory of kept-alive TLS connections', () => {
  it('does not keep an answer alive with the pooled socket that fetched it', async () => {
    // Node's https.Agent keeps the first request of each kept-alive socket reachable while the socket lives; an
    // informer's first list page is such a request, several MB that must not stay in memory with it.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const page = JSON.stringify({ kind: 'NamespaceList', metadata: {}, items: Array.from({ length: 8000 }, (_, i) => ({ metadata: { name: `ns-${i}`, annotations: { filler: 'x'.repeat(1000) } } })) });
    const server = createTlsServer(LOOPBACK_TLS, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(page); });
    server.keepAliveTimeout = 60_000;
    const connection = await listenOnLoopback(server);
    try {
      const outside = (): number => {
        gc();
        gc();
        const { external } = process.memoryUsage();
        return external;
      };
      const before = outside();
      const items = (await makeClients(connection).core.listNamespace()).items.length;
      assert.equal(items, 8000);
      const kept = outside() - before;
      assert.ok(page.length > 8_000_000 && kept < page.length / 4, `${(kept / 1e6).toFixed(1)} MB kept outside the V8 heap after reading an answer of ${(page.length / 1e6).toFixed(1)} MB`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('REST client: watches', () => {
  let server: Server;
  let connection: KubeConnection;
  let stream: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;

  before(async () => {
    server = createServer((req, res) => { stream(req, res); });
    connection = await listenOnLoopback(server);
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  function watchAll(query: Record<string, string | number | boolean>): Promise<{ events: [string, unknown][]; ended: unknown; url: string }> {
    const events: [string, unknown][] = [];
    let url = '';
    const previous = stream;
    return new Promise((resolve, reject) => {
      stream = (req, res) => {
        url = req.url ?? '';
        previous(req, res);
      };
      makeClients(connection)
        .watcher.watch('/api/v1/pods', query, (type, object) => events.push([type, object]), (ended) => { resolve({ events, ended, url }); })
        .catch(reject);
    });
  }

  it('delivers every event of a stream split at arbitrary points, then reports its end', async () => {
    const lines = [
      { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '1' } } },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '2' } } },
      { type: 'DELETED', object: { metadata: { name: 'a', resourceVersion: '3' } } },
    ];
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    stream = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Chunks that cut lines in the middle, and a line that arrives whole with the next one.
      const cuts = [5, 40, 41, 90, text.length];
      let from = 0;
      const next = (): void => {
        const to = cuts.shift();
        if (to === undefined) {
          res.end();
          return;
        }
        res.write(text.slice(from, to));
        from = to;
        setTimeout(next, 5);
      };
      next();
    };
    const { events, ended, url } = await watchAll({ resourceVersion: '1', allowWatchBookmarks: true, timeoutSeconds: 300 });
    assert.deepEqual(events, lines.map((l) => [l.type, l.object]));
    assert.equal(ended, undefined);
    assert.deepEqual(Object.fromEntries(new URL(url, 'http://x').searchParams), { resourceVersion: '1', allowWatchBookmarks: 'true', timeoutSeconds: '300', watch: 'true' });
  });

  it('rejects a watch the server refuses, with its status code (410: relist)', async () => {
    stream = (_req, res) => { json(res, 410, { kind: 'Status', reason: 'Expired', code: 410 }); };
    const error = await makeClients(connection).watcher.watch('/api/v1/pods', {}, () => undefined, () => undefined).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.equal(statusCodeOf(error), 410);
  });

  it('a watch refused with 401 reports the rejected credential, so that the retry of the informer carries a renewed one', async () => {
    stream = (_req, res) => { json(res, 401, { kind: 'Status', code: 401 }); };
    const rejected: (string | undefined)[] = [];
    const renewable: KubeConnection = { ...connection, unauthorized: (header) => { rejected.push(header); return true; } };
    const error = await makeClients(renewable).watcher.watch('/api/v1/pods', {}, () => undefined, () => undefined).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.equal(statusCodeOf(error), 401);
    assert.deepEqual(rejected, ['Bearer t']);
  });

  it('ends a watch whose stream is not JSON with the parse error', async () => {
    stream = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{}}\nnot json\n');
    };
    const { events, ended } = await watchAll({});
    assert.equal(events.length, 1);
    assert.ok(ended instanceof SyntaxError, `ended with ${String(ended)}`);
  });

  it('an aborted watch ends and reports it', async () => {
    stream = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('');
    };
    let ended: unknown = 'not yet';
    const controller = await makeClients(connection).watcher.watch('/api/v1/pods', {}, () => undefined, (e) => (ended = e));
    const done = new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await done;
    assert.notEqual(ended, 'not yet');
  });
});
