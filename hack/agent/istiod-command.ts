// The pilot-discovery command line for an istiod Deployment, run out of cluster: the Deployment container's own
// arguments, with every listener moved onto the ClusterIP of the revision's Service (AnyIP-local in the network
// namespace) so the API server reaches the injection webhook at <ClusterIP>:443 as it would through kube-proxy, and
// two revisions never compete for a port. Flags from pilot/cmd/pilot-discovery/app/cmd.go and pkg/ctrlz/options.go.

/** Flags that choose a listen address; the Deployment's values (e.g. --monitoringAddr=:15014) are replaced. */
const LISTENER_FLAGS = ['httpAddr', 'httpsAddr', 'grpcAddr', 'secureGRPCAddr', 'monitoringAddr', 'ctrlz_address', 'ctrlz_port'];

/** The Service port the API server dials for the webhook (the chart maps 443 -> targetPort 15017 in the pod). */
const WEBHOOK_SERVICE_PORT = 443;

export function istiodArguments(containerArgs: readonly string[], clusterIP: string, kubeconfigPath: string): string[] {
  const args = withoutFlags(containerArgs, [...LISTENER_FLAGS, 'kubeconfig']);
  const host = clusterIP.includes(':') ? `[${clusterIP}]` : clusterIP;
  return [
    ...args,
    `--httpsAddr=${host}:${WEBHOOK_SERVICE_PORT}`,
    `--httpAddr=${host}:8080`,
    `--grpcAddr=${host}:15010`,
    `--secureGRPCAddr=${host}:15012`,
    `--monitoringAddr=${host}:15014`,
    `--ctrlz_address=${clusterIP}`, // default is localhost:9876, which two istiods would share
    '--ctrlz_port=9876',
    `--kubeconfig=${kubeconfigPath}`,
  ];
}

/** Removes `--flag value`, `--flag=value` (and single-dash forms) of the named flags. */
export function withoutFlags(args: readonly string[], names: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const match = /^--?([^=]+)(=.*)?$/.exec(arg);
    const name = match?.[1];
    if (name !== undefined && names.includes(name)) {
      const next = args[i + 1];
      if (match?.[2] === undefined && next !== undefined && !next.startsWith('-')) i++; // skip the separate value
      continue;
    }
    result.push(arg);
  }
  return result;
}

/**
 * What a pod's istiod container asks to run (image, command, args, env), canonicalized (sorted keys) so a template
 * read from a watch event and a pod read through the typed client compare equal. A pod is only Ready when the
 * process runs its fingerprint: during a rollout the new pod waits for istiod to restart with the new template.
 */
export function containerFingerprint(container: { image?: string | undefined; command?: string[] | undefined; args?: string[] | undefined; env?: unknown }): string {
  return canonicalJson({ image: container.image, command: container.command, args: container.args, env: container.env });
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
