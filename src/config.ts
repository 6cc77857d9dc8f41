// The only reader of process.env and command-line flags: validated once, then frozen.
import { hostname } from 'node:os';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { DEFAULT_ISTIO_NAMESPACE } from './api/constants.ts';
import { DURATION_PATTERN } from './api/schema.ts';
import type { PlanOptions } from './cli/plan-command.ts';
import { parseDuration } from './core/duration.ts';
import { DEFAULT_INSTALLER_IMAGES, INSTALLER_IMAGE_ENTRY } from './core/installer-images.ts';

export const USAGE = `Usage: istio-upgrade-operator [flags]
       istio-upgrade-operator plan -f FILE [--kubeconfig PATH] [--istio-namespace NAME] [-o text|yaml|json]

Carries IstioUpgrade objects (istioupgrade.dev/v1alpha1) through the Istio canary upgrade.

plan prints what the IstioUpgrade in FILE (- for stdin) would do to the cluster: the waves and their
workloads, what is never restarted and why, what will hold the uninstall, what the uninstall removes,
and whether the precheck would refuse it. It changes nothing. Exit code 0: it would proceed; 3: the
precheck would refuse it; 2: bad input.

Flags:
  --kubeconfig PATH                  kubeconfig to use (default: $KUBECONFIG, else the in-cluster ServiceAccount)
  --namespace NAME                   namespace of the operator: installer Jobs and the leader Lease live here
                                     (default: $POD_NAMESPACE, else istio-upgrade-operator)
  --istio-namespace NAME             namespace of the Istio control plane (default: istio-system)
  --installer-service-account NAME   ServiceAccount of the istioctl Jobs (default: istio-upgrade-installer)
  --installer-timeout DURATION       kill an istioctl Job after this long (default: 30m)
  --leader-elect true|false          elect a leader with a Lease before acting (default: true)
  --lease-name NAME                  name of the leader Lease (default: istio-upgrade-operator)
  --identity NAME                    this replica's identity in the Lease (default: $POD_NAME, else host-pid)
  --metrics-bind-address HOST:PORT   /metrics, /healthz and /readyz (default: 0.0.0.0:9464)
  --installer-images LIST            comma-separated installer images an IstioUpgrade may choose in
                                     spec.installer.istioctl.image: a repository (the version is the tag), or
                                     repository:version@sha256:DIGEST (that version, run by digest; list only
                                     pinned entries to require digests) (default: docker.io/istio/istioctl)
  --metrics-auth kubernetes|none     who may read /metrics: kubernetes = a bearer token allowed to get the
                                     non-resource URL /metrics (TokenReview + SubjectAccessReview); none = anyone,
                                     only with a loopback --metrics-bind-address (default: kubernetes)
  --resync DURATION                  look at every IstioUpgrade at least this often (default: 60s)
  --informer-down-limit DURATION     /healthz fails (the kubelet restarts the pod) only once a cache's list/watch
                                     has kept failing this long; until then it retries by itself (default: 5m)
  --request-timeout DURATION         give up on an API request not answered in this long (default: 30s)
  --log-level LEVEL                  trace, debug, info, warn, error or silent (default: info)
  --help                             print this help
  --version                          print the version
`;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

const durationText = z.string().regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 30s, 5m or 1h30m');
const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label').max(63);

const ConfigSchema = z.object({
  kubeconfig: z.string().min(1).optional(),
  namespace: name,
  istioNamespace: name,
  installerServiceAccount: name,
  installerTimeoutMs: durationText.transform(parseDuration),
  leaderElect: z.enum(['true', 'false']).transform((v) => v === 'true'),
  leaseName: name,
  identity: z.string().min(1).max(128),
  metricsHost: z.string().min(1),
  metricsPort: z.coerce.number().int().min(0).max(65535),
  metricsAuth: z.enum(['kubernetes', 'none']),
  installerImages: z.array(z.string().min(1).max(512).regex(INSTALLER_IMAGE_ENTRY, 'must be an image repository (any version), or repository:version@sha256:<64 hex digits> (that version, by digest)')).min(1),
  resyncMs: durationText.transform(parseDuration),
  informerDownLimitMs: durationText.transform(parseDuration),
  requestTimeoutMs: durationText.transform(parseDuration),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']),
});
export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export type ConfigResult =
  | { readonly kind: 'run'; readonly config: Config }
  | { readonly kind: 'plan'; readonly options: PlanOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'error'; readonly message: string };

/** Flags parsed strictly (no positionals, no unknown flags), or the parser's message. */
function parseFlags<const O extends ParseArgsOptionsConfig>(argv: readonly string[], options: O): { values: ReturnType<typeof parseArgs<{ options: O }>>['values'] } | { error: string } {
  try {
    return { values: parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function loadPlanOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const flags = parseFlags(argv, {
    filename: { type: 'string', short: 'f' },
    kubeconfig: { type: 'string' },
    'istio-namespace': { type: 'string' },
    output: { type: 'string', short: 'o' },
  });
  if ('error' in flags) return { kind: 'error', message: `plan: ${flags.error}` };
  const values = flags.values;
  if (values.filename === undefined) return { kind: 'error', message: 'plan: -f FILE is required (the IstioUpgrade manifest, or - for stdin)' };
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'yaml' && output !== 'json') return { kind: 'error', message: `plan: -o must be text, yaml or json, not "${output}"` };
  const istioNamespace = name.safeParse(values['istio-namespace'] ?? DEFAULT_ISTIO_NAMESPACE);
  if (!istioNamespace.success) return { kind: 'error', message: '--istio-namespace: must be a DNS label' };
  const kubeconfig = values.kubeconfig ?? (env.KUBECONFIG === '' ? undefined : env.KUBECONFIG);
  return { kind: 'plan', options: { file: values.filename, kubeconfig, istioNamespace: istioNamespace.data, output } };
}

export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ConfigResult {
  if (argv[0] === 'plan') return loadPlanOptions(argv.slice(1), env);
  const flags = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    namespace: { type: 'string' },
    'istio-namespace': { type: 'string' },
    'installer-service-account': { type: 'string' },
    'installer-timeout': { type: 'string' },
    'leader-elect': { type: 'string' },
    'lease-name': { type: 'string' },
    identity: { type: 'string' },
    'metrics-bind-address': { type: 'string' },
    'metrics-auth': { type: 'string' },
    'installer-images': { type: 'string' },
    resync: { type: 'string' },
    'informer-down-limit': { type: 'string' },
    'request-timeout': { type: 'string' },
    'log-level': { type: 'string' },
    help: { type: 'boolean' },
    version: { type: 'boolean' },
  });
  if ('error' in flags) return { kind: 'error', message: flags.error };
  const values = flags.values;
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const bind = values['metrics-bind-address'] ?? '0.0.0.0:9464';
  const colon = bind.lastIndexOf(':');
  const raw = {
    kubeconfig: values.kubeconfig ?? (env.KUBECONFIG === '' ? undefined : env.KUBECONFIG),
    namespace: values.namespace ?? env.POD_NAMESPACE ?? 'istio-upgrade-operator',
    istioNamespace: values['istio-namespace'] ?? DEFAULT_ISTIO_NAMESPACE,
    installerServiceAccount: values['installer-service-account'] ?? 'istio-upgrade-installer',
    installerTimeoutMs: values['installer-timeout'] ?? '30m',
    leaderElect: values['leader-elect'] ?? 'true',
    leaseName: values['lease-name'] ?? 'istio-upgrade-operator',
    identity: values.identity ?? env.POD_NAME ?? `${hostname()}-${process.pid}`,
    metricsHost: colon < 0 ? '' : bind.slice(0, colon),
    metricsPort: colon < 0 ? '' : bind.slice(colon + 1),
    metricsAuth: values['metrics-auth'] ?? 'kubernetes',
    installerImages: (values['installer-images'] ?? DEFAULT_INSTALLER_IMAGES.join(',')).split(',').filter((image) => image !== ''),
    resyncMs: values.resync ?? '60s',
    informerDownLimitMs: values['informer-down-limit'] ?? '5m',
    requestTimeoutMs: values['request-timeout'] ?? '30s',
    logLevel: values['log-level'] ?? 'info',
  };
  const parsed = ConfigSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    const flag: Record<string, string> = { metricsHost: 'metrics-bind-address', metricsPort: 'metrics-bind-address', metricsAuth: 'metrics-auth', installerImages: 'installer-images', installerTimeoutMs: 'installer-timeout', resyncMs: 'resync', informerDownLimitMs: 'informer-down-limit', requestTimeoutMs: 'request-timeout', leaderElect: 'leader-elect', logLevel: 'log-level', istioNamespace: 'istio-namespace', installerServiceAccount: 'installer-service-account', leaseName: 'lease-name' };
    const message = parsed.error.issues.map((i) => `--${flag[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`).join('; ');
    return { kind: 'error', message };
  }
  if (parsed.data.metricsAuth === 'none' && !LOOPBACK_HOSTS.has(parsed.data.metricsHost)) {
    return { kind: 'error', message: `--metrics-auth=none would serve /metrics to anyone who can reach ${parsed.data.metricsHost}; bind it to 127.0.0.1 (--metrics-bind-address=127.0.0.1:${parsed.data.metricsPort}) or keep --metrics-auth=kubernetes` };
  }
  return { kind: 'run', config: Object.freeze(parsed.data) };
}
