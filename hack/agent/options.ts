// Command line of the node agent. The launcher passes only --kubeconfig; everything else has a default derived
// from it or from the binary cache hack/build fills.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface AgentOptions {
  /** Admin kubeconfig: the agent's own identity (a node's) and istiod's. */
  readonly kubeconfig: string;
  /** Holds bin/istio-<version>/{istioctl,pilot-discovery} and bin/helm-<version>/helm. */
  readonly binRoot: string;
  /** Working directories of istiod processes and installer (istioctl, helm) runs; logs go to <workDir>/logs. */
  readonly workDir: string;
  readonly istioNamespace: string;
  readonly logLevel: string;
}

const USAGE = `usage: node hack/agent/main.ts --kubeconfig <admin kubeconfig>
  [--bin-root <dir>]        default: \${IUO_CACHE:-~/.cache/istio-upgrade-operator}/bin
  [--work-dir <dir>]        default: <kubeconfig dir>/node-agent
  [--istio-namespace <ns>]  default: istio-system
  [--log-level <level>]     default: info`;

export function parseOptions(argv: readonly string[]): AgentOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kubeconfig: { type: 'string' },
      'bin-root': { type: 'string' },
      'work-dir': { type: 'string' },
      'istio-namespace': { type: 'string', default: 'istio-system' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true || values.kubeconfig === undefined) {
    console.error(USAGE);
    process.exit(values.help === true ? 0 : 2);
  }
  const kubeconfig = resolve(values.kubeconfig);
  const cache = process.env.IUO_CACHE ?? join(homedir(), '.cache', 'istio-upgrade-operator');
  return {
    kubeconfig,
    binRoot: resolve(values['bin-root'] ?? join(cache, 'bin')),
    workDir: resolve(values['work-dir'] ?? join(dirname(kubeconfig), 'node-agent')),
    istioNamespace: values['istio-namespace'],
    logLevel: values['log-level'],
  };
}
