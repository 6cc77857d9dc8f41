// Network-isolation self-check of the hermetic test cluster's namespace (the network rule in hack/cluster/README.md).
// Run INSIDE the namespace (`npm run cluster -- check` does: ip netns exec iuo-<cluster> node netcheck.ts):
//   1. connecting to outside addresses (TCP, IPv4 and IPv6) must fail at once with ENETUNREACH, and a UDP send
//      must fail the same way: there is no route out of the namespace, so no packet can leave it;
//   2. the cluster's local addresses must work: a listener on a ClusterIP (10.96.0.50:443), on a pod IP
//      (10.244.1.5:15017) and on the node IP (10.250.0.1) accepts connections from inside the namespace.
// Prints one line per probe and exits 1 if any probe is not as expected.
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

export const OUTSIDE_TCP: [string, number][] = [
  ['8.8.8.8', 53],
  ['1.1.1.1', 443],
  ['192.168.0.1', 80],
  ['172.17.0.1', 80],
  ['10.0.0.1', 443],
  ['2001:4860:4860::8888', 443],
];
export const LOCAL_TCP: [string, number][] = [
  ['10.96.0.50', 443],
  ['10.244.1.5', 15017],
  ['10.250.0.1', 18080],
];

function probeOutside(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 3000 });
    s.on('connect', () => {
      s.destroy();
      resolve('CONNECTED');
    });
    s.on('timeout', () => {
      s.destroy();
      resolve('TIMEOUT');
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      resolve(e.code ?? e.message);
    });
  });
}

function probeUdp(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.send(Buffer.from('iuo'), port, host, (err) => {
      sock.close();
      resolve(err ? ((err as NodeJS.ErrnoException).code ?? err.message) : 'SENT');
    });
  });
}

function probeLocal(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer((s) => s.end('pong'));
    server.on('error', (e: NodeJS.ErrnoException) => {
      resolve(`listen ${e.code ?? e.message}`);
    });
    server.listen(port, host, () => {
      const c = connect({ host, port });
      c.on('data', (d) => {
        c.destroy();
        server.close();
        resolve(String(d) === 'pong' ? 'OK' : `unexpected ${String(d)}`);
      });
      c.on('error', (e: NodeJS.ErrnoException) => {
        server.close();
        resolve(`connect ${e.code ?? e.message}`);
      });
    });
  });
}

export async function runChecks(log: (line: string) => void = console.log): Promise<boolean> {
  let ok = true;
  for (const [host, port] of OUTSIDE_TCP) {
    const r = await probeOutside(host, port);
    const good = r === 'ENETUNREACH';
    ok &&= good;
    log(`${good ? 'ok  ' : 'FAIL'} tcp connect ${host.includes(':') ? `[${host}]` : host}:${port} -> ${r} (want ENETUNREACH)`);
  }
  for (const [host, port] of [
    ['8.8.8.8', 53],
    ['2001:4860:4860::8888', 53],
  ] as const) {
    const r = await probeUdp(host, port);
    const good = r === 'ENETUNREACH';
    ok &&= good;
    log(`${good ? 'ok  ' : 'FAIL'} udp send ${host}:${port} -> ${r} (want ENETUNREACH)`);
  }
  for (const [host, port] of LOCAL_TCP) {
    const r = await probeLocal(host, port);
    const good = r === 'OK';
    ok &&= good;
    log(`${good ? 'ok  ' : 'FAIL'} listen+connect ${host}:${port} -> ${r} (want OK)`);
  }
  return ok;
}

if (import.meta.main) {
  const ok = await runChecks();
  console.log(ok ? 'netcheck: isolated (no route out) and cluster addresses are local' : 'netcheck: FAILED');
  process.exit(ok ? 0 : 1);
}
