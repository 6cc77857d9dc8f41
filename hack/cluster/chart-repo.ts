// Helm chart repository of the hermetic test cluster: serves, over plain HTTP, the directory hack/build fills with
// the base, istiod and gateway charts of both pinned Istio versions (index.yaml and <chart>-<version>.tgz).
//
// Listens on the node IP (10.250.0.1:8879 inside the cluster's network namespace), which every process there can
// reach: tests, the operator, and the Helm Job pods the node agent runs. A pod of a real cluster would reach a
// node-local repository the same way. Read-only: GET and HEAD of the files directly in the directory, read on
// every request (a rebuilt repository is served at once), plus GET /healthz ("ok").
//
// Flags / env: --listen host:port (IUO_CHART_REPO_LISTEN, default 10.250.0.1:8879)
//              --dir <dir>        (IUO_CHART_REPO_DIR, default ${IUO_CACHE:-~/.cache/istio-upgrade-operator}/bin/chart-repo)
// Run: node hack/cluster/chart-repo.ts
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHART_REPO_ADDRESS, cacheRoot } from './paths.ts';
import { serveUntilSignalled } from './serve-until-signalled.ts';

const CONTENT_TYPES: Record<string, string> = { '.yaml': 'application/yaml', '.tgz': 'application/gzip', '.json': 'application/json' };
/** A file name of the repository (no directory parts, no dot files such as the build stamp). */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;

export function createChartRepoServer(dir: string): Server {
  return createServer((req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://repo').pathname).replace(/^\/+/, '');
      if (method !== 'GET' && method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === 'healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(method === 'HEAD' ? undefined : 'ok\n');
        return;
      }
      const file = join(dir, path);
      const size = FILE_NAME.test(path) ? await stat(file).then((s) => (s.isFile() ? s.size : undefined), () => undefined) : undefined;
      if (size === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(method === 'HEAD' ? undefined : `not found: /${path}\n`);
        return;
      }
      const ext = path.slice(path.lastIndexOf('.'));
      res.writeHead(200, { 'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream', 'content-length': size });
      if (method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
}

function main(): void {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: process.env['IUO_CHART_REPO_LISTEN'] ?? CHART_REPO_ADDRESS },
      dir: { type: 'string', default: process.env['IUO_CHART_REPO_DIR'] ?? join(cacheRoot(), 'bin', 'chart-repo') },
    },
  });
  const sep = values.listen.lastIndexOf(':');
  const host = values.listen.slice(0, sep);
  const port = Number(values.listen.slice(sep + 1));
  if (sep < 0 || !Number.isInteger(port)) {
    console.error(`chart-repo: bad --listen ${values.listen}`);
    process.exit(2);
  }
  const server = createChartRepoServer(values.dir);
  serveUntilSignalled(server, port, host, () => {
    console.log(`chart-repo: serving ${values.dir} on http://${values.listen}/`);
  });
}

if (import.meta.main) main();
