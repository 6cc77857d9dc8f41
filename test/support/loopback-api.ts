// A stand-in API server on a loopback port, for the HTTP client's own behaviour (timeouts, pooling, watch
// streams, error bodies); behaviour of the real API server is tested on the hermetic cluster.
import { readFileSync } from 'node:fs';
import type { Server, ServerResponse } from 'node:http';
import { Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connectionFromKubeconfig, type KubeConnection } from '../../src/kube/rest/kube-connection.ts';

/**
 * A self-signed certificate for 127.0.0.1 and its key, for stand-ins served over TLS (test only; valid until
 * 2126): `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj
 * /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1`.
 */
export const LOOPBACK_TLS = {
  cert: readFileSync(new URL('tls/loopback.crt', import.meta.url)),
  key: readFileSync(new URL('tls/loopback.key', import.meta.url)),
};

/**
 * Starts the server on a loopback port and returns a connection (a token) to it, as a kubeconfig says: plain
 * HTTP, or HTTPS trusting LOOPBACK_TLS when the server is an https one.
 */
export async function listenOnLoopback(server: Server | TlsServer): Promise<KubeConnection> {
  const tls = server instanceof TlsServer;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return connectionFromKubeconfig(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: tls ? { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': LOOPBACK_TLS.cert.toString('base64') } : { server: `http://127.0.0.1:${port}` } }],
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
