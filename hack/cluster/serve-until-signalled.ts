// How the harness's HTTP daemons (exporter, chart repository) run: listen, then close and exit 0 on SIGTERM or
// SIGINT, which is how the launcher stops them.
import type { Server } from 'node:http';

export function serveUntilSignalled(server: Server, port: number, host: string, onListening: () => void): void {
  server.listen(port, host, onListening);
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
