// Every API request has a timeout: a server that accepts and never answers (a black-holed connection) cannot
// hang a pass, and Lease requests give up sooner than the others.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { classifyApiError, statusCodeOf } from '../../../src/kube/api-errors.ts';
import { makeClients } from '../../../src/kube/clients.ts';
import type { KubeConnection } from '../../../src/kube/rest/kube-connection.ts';
import { json, listenOnLoopback } from '../../support/loopback-api.ts';

describe('API clients: request timeouts', () => {
  let server: Server;
  let seen: string[] = [];
  let config: KubeConnection;

  before(async () => {
    // Reads the request, never answers.
    server = createServer((req) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers['user-agent'] ?? ''}`);
    });
    config = await listenOnLoopback(server);
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const cases = [
    { name: 'a list', call: (c: ReturnType<typeof makeClients>) => c.core.listNamespace(), timeoutMs: 300 },
    { name: 'a Lease read (its own, shorter timeout)', call: (c: ReturnType<typeof makeClients>) => c.coordination.readNamespacedLease({ name: 'l', namespace: 'n' }), timeoutMs: 150 },
  ];
  for (const c of cases) {
    it(`${c.name} that is never answered fails after its timeout, as a transient error`, async () => {
      seen = [];
      const clients = makeClients(config, { requestMs: 300, leaseMs: 150 }, 'iuo-test');
      const started = performance.now();
      const error = await c.call(clients).then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsed = performance.now() - started;
      assert.ok(error !== undefined, 'the request must fail');
      assert.equal(classifyApiError(error, 'call').name, 'TransientError');
      assert.ok(elapsed >= c.timeoutMs - 50, `gave up after ${Math.round(elapsed)}ms, before its ${c.timeoutMs}ms timeout`);
      // Generous upper bound: only proves the request did not hang (shared machines are slow).
      assert.ok(elapsed < 10_000, `still waiting after ${Math.round(elapsed)}ms`);
      assert.equal(seen.length, 1, 'the request reached the server');
      assert.match(seen[0] ?? '', / iuo-test$/);
    });
  }
});

describe('API clients: connections are reused', () => {
  let server: Server;
  let connections = 0;
  let requests = 0;
  let config: KubeConnection;

  before(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      json(res, 200, { kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
    });
    server.on('connection', () => {
      connections += 1;
    });
    config = await listenOnLoopback(server);
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('ten requests of one client set, one after the other, reuse kept-alive connections', async () => {
    const clients = makeClients(config, { requestMs: 5_000, leaseMs: 5_000 }, 'iuo-test');
    for (let i = 0; i < 5; i++) {
      await clients.core.listNamespace();
      await clients.apps.listDeploymentForAllNamespaces();
    }
    assert.equal(requests, 10);
    // One kept-alive pool: sequential requests reuse its connection.
    assert.ok(connections <= 2, `${connections} connections for ${requests} requests`);
  });
});

describe('API clients: raw lists for the informers', () => {
  let server: Server;
  let urls: string[] = [];
  let connections = 0;
  let config: KubeConnection;

  before(async () => {
    server = createServer((req, res) => {
      urls.push(req.url ?? '');
      if ((req.url ?? '').includes('continue=expired')) json(res, 410, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 });
      else if ((req.url ?? '').startsWith('/api/v1/nodes')) json(res, 200, { kind: 'Status', apiVersion: 'v1' });
      else {
        json(res, 200, {
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '42', continue: 'next' },
          items: [{ metadata: { name: 'p', namespace: 'n', creationTimestamp: '2026-12-01T00:00:00Z' }, status: { phase: 'Running' } }],
        });
      }
    });
    server.on('connection', () => {
      connections += 1;
    });
    config = await listenOnLoopback(server);
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('returns the JSON as sent (timestamps stay strings) with the continue token, and sends the page and selectors', async () => {
    urls = [];
    const clients = makeClients(config, { requestMs: 5_000, leaseMs: 5_000 }, 'iuo-test');
    const page = await clients.lists.list('/api/v1/pods', { limit: 500, _continue: 'abc', labelSelector: 'istio.io/rev' });
    assert.equal(page.metadata?.resourceVersion, '42');
    assert.equal(page.metadata?.continue, 'next');
    assert.deepEqual(page.items, [{ metadata: { name: 'p', namespace: 'n', creationTimestamp: '2026-12-01T00:00:00Z' }, status: { phase: 'Running' } }]);
    const sent = new URL(urls[0] ?? '', 'http://x');
    assert.equal(sent.pathname, '/api/v1/pods');
    assert.deepEqual(Object.fromEntries(sent.searchParams), { limit: '500', continue: 'abc', labelSelector: 'istio.io/rev' });
  });

  it('fails as the other calls do: an expired continue token is a 410 the informer relists on', async () => {
    const clients = makeClients(config, { requestMs: 5_000, leaseMs: 5_000 }, 'iuo-test');
    const error = await clients.lists.list('/api/v1/pods', { limit: 500, _continue: 'expired' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.equal(statusCodeOf(error), 410);
    assert.equal(classifyApiError(error, 'list').name, 'TransientError');
  });

  it('rejects an answer that is not a list', async () => {
    const clients = makeClients(config, { requestMs: 5_000, leaseMs: 5_000 }, 'iuo-test');
    await assert.rejects(clients.lists.list('/api/v1/nodes', {}), /not a list/);
  });

  it('shares the API groups\' connection pool', async () => {
    connections = 0;
    const clients = makeClients(config, { requestMs: 5_000, leaseMs: 5_000 }, 'iuo-test');
    for (let i = 0; i < 5; i++) {
      await clients.lists.list('/api/v1/pods', {});
      await clients.core.listNamespace().catch(() => undefined);
    }
    assert.ok(connections <= 2, `${connections} connections for 10 requests`);
  });
});
