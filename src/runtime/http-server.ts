// /metrics (for authorized callers only), /healthz and /readyz (for the kubelet) on one port.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { MetricsAuthorizer } from './metrics-auth.ts';

export interface HealthSource {
  /** Liveness: the process can still make progress. */
  healthy(): { ok: boolean; detail: string };
  /** Readiness: caches synced and able to serve (followers are ready too). */
  ready(): { ok: boolean; detail: string };
}

export function startHttpServer(host: string, port: number, registry: Registry, health: HealthSource, authorizer: MetricsAuthorizer): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    if (path === '/metrics') {
      authorizer
        .authorize(req.headers.authorization, Date.now())
        .then(async (decision) => {
          if (!decision.ok) {
            reply(decision.code, `${decision.message}\n`);
            return;
          }
          reply(200, await registry.metrics(), registry.contentType);
        })
        .catch((error: unknown) => {
          reply(500, String(error));
        });
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const check = path === '/healthz' ? health.healthy() : health.ready();
      reply(check.ok ? 200 : 503, `${check.ok ? 'ok' : 'not ok'}: ${check.detail}\n`);
      return;
    }
    reply(404, 'not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
