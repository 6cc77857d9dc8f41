// CLI of the hermetic test cluster: `npm run cluster -- <command>` (see README.md).
//   up                 build/check the pinned binaries, create the namespace and the cluster, start Prometheus,
//                      the test exporter and the node agent; reuses a running cluster
//   down               stop everything and delete the namespace (idempotent)
//   status             which components run (exit 0 when all of them do, 3 otherwise)
//   env                KEY=value lines: KUBECONFIG, IUO_NETNS, PROMETHEUS_URL, EXPORTER_URL, IUO_CHART_REPO, ...
//   exec -- cmd...     run cmd inside the namespace with KUBECONFIG and the cluster's bin dir on PATH
//   check              network-isolation self-check (routes, outside connects fail, cluster addresses work)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { checkIsolation, clusterDown, clusterInfo, clusterStatus, ensureClusterUp } from './cluster.ts';

const log = (line: string): void => {
  console.error(`[cluster] ${line}`);
};

function usage(code: number): never {
  console.error('usage: npm run cluster -- up | down | status | env | exec -- <cmd> [args...] | check');
  process.exit(code);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const started = Date.now();
      const info = await ensureClusterUp({ log, verboseBuild: rest.includes('--verbose') });
      log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s; kubeconfig ${info.kubeconfigPath}`);
      log(`run commands inside it with: npm run cluster -- exec -- kubectl get nodes`);
      return 0;
    }
    case 'down':
      await clusterDown({ log });
      log('down');
      return 0;
    case 'status': {
      const { up, components } = clusterStatus();
      for (const c of components) {
        const pid = c.pid === undefined ? '' : ` pid ${c.pid}`;
        const detail = c.detail === undefined ? '' : ` (${c.detail})`;
        console.log(`${c.running ? 'up  ' : 'DOWN'} ${c.name}${pid}${detail}`);
      }
      console.log(up ? 'cluster is up' : 'cluster is not (fully) up');
      return up ? 0 : 3;
    }
    case 'env': {
      const info = clusterInfo();
      const keys = ['KUBECONFIG', 'IUO_NETNS', 'PROMETHEUS_URL', 'EXPORTER_URL', 'IUO_CHART_REPO', 'IUO_CLUSTER', 'IUO_CLUSTER_DIR', 'IUO_BIN_DIR', 'IUO_NODE_IP'];
      for (const k of keys) console.log(`${k}=${info.env[k] ?? ''}`);
      console.log(`K8S_VERSION=${info.versions.kubernetes}`);
      console.log(`ISTIO_OLD_VERSION=${info.versions.istioOld}`);
      console.log(`ISTIO_NEW_VERSION=${info.versions.istioNew}`);
      console.log(`HELM_VERSION=${info.versions.helm}`);
      return 0;
    }
    case 'exec': {
      const cmd = rest[0] === '--' ? rest.slice(1) : rest;
      const [bin, ...args] = cmd;
      if (bin === undefined) usage(2);
      const info = clusterInfo();
      if (!existsSync(`/run/netns/${info.netns}`)) {
        log(`network namespace ${info.netns} does not exist: run \`npm run cluster -- up\` first`);
        return 1;
      }
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KWOK_')) env[k] = v;
      const child = spawn('ip', ['netns', 'exec', info.netns, bin, ...args], { stdio: 'inherit', env: { ...env, ...info.env } });
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
      return await new Promise<number>((resolve) => {
        child.on('error', (e) => {
          log(`exec ${bin}: ${e.message}`);
          resolve(127);
        });
        child.on('close', (code, signal) => {
          resolve(code ?? (signal === null ? 1 : 128 + 15));
        });
      });
    }
    case 'check': {
      const r = checkIsolation();
      console.log(`# ip -n ${clusterInfo().netns} addr show\n${r.links}`);
      console.log(`# ip -n ${clusterInfo().netns} route show table all\n${r.routes}`);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.code ?? 1;
    }
    case undefined:
    case '-h':
    case '--help':
      usage(command === undefined ? 2 : 0);
      break;
    default:
      log(`unknown command ${command}`);
      usage(2);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    log(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
