// A stand-in API server on a loopback port, for the HTTP client's own behaviour (timeouts, pooling, watch
// streams, error bodies); behaviour of the real API server is tested on the hermetic cluster.
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectionFromKubeconfig, type KubeConnection } from '../../src/kube/rest/kube-connection.ts';

/** Starts the server on a loopback port and returns a connection (plain HTTP, a token) to it, as a kubeconfig says. */
export async function listenOnLoopback(server: Server): Promise<KubeConnection> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return connectionFromKubeconfig(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    },
    '/',
  );
}

/** Answers with a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
