// Every API request has a timeout: a server that accepts and never answers (a black-holed connection) cannot
// hang a pass, and Lease requests give up sooner than the others.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { classifyApiError } from '../../../src/kube/api-errors.ts';
import { makeClients } from '../../../src/kube/clients.ts';

/** Starts the server on a loopback port and returns a kubeconfig (plain HTTP, a token) pointing at it. */
async function listenOnLoopback(server: Server): Promise<KubeConfig> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return config;
}

describe('API clients: request timeouts', () => {
  let server: Server;
  let seen: string[] = [];
  let config: KubeConfig;

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
  let config: KubeConfig;

  before(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] }));
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
    // client-node alone opens a new connection (a new pool) per request: 10 here. One shared pool may still
    // spread sequential requests over two connections (undici's Pool picks a client per request).
    assert.ok(connections <= 2, `${connections} connections for ${requests} requests`);
  });
});
