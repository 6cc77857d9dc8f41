// The single source of truth for the IstioUpgrade API: the CRD, the TypeScript types and the runtime
// parsing of objects read from the cluster all derive from these schemas.
import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';

/** Go-style duration as Kubernetes users write it: 90s, 5m, 1h30m, 250ms. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
export const VERSION_PATTERN = '^[0-9]+\\.[0-9]+\\.[0-9]+$';
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** Longest duration any field accepts: past it a timer is no longer a plan, and setTimeout overflows. */
export const MAX_DURATION = '720h';
const MAX_DURATION_TEXT_LENGTH = 32;

/** A bounded duration field: the API server checks the bounds with CEL, the operator again when it parses. */
const duration = (fallback: string, min = '0s') =>
  z
    .string()
    .max(MAX_DURATION_TEXT_LENGTH)
    .regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 30s, 5m or 1h30m')
    .refine((text) => !new RegExp(DURATION_PATTERN).test(text) || withinDuration(text, min), min === '0s' ? `must be at most ${MAX_DURATION}` : `must be between ${min} and ${MAX_DURATION}`)
    .meta({
      'x-kubernetes-validations': [
        min === '0s'
          ? { rule: `duration(self) <= duration('${MAX_DURATION}')`, message: `must be at most ${MAX_DURATION} (30 days)` }
          : { rule: `duration(self) >= duration('${min}') && duration(self) <= duration('${MAX_DURATION}')`, message: `must be between ${min} and ${MAX_DURATION} (30 days)` },
      ],
    })
    .default(fallback);

function withinDuration(text: string, min: string): boolean {
  const ms = parseDuration(text);
  return ms >= parseDuration(min) && ms <= parseDuration(MAX_DURATION);
}

const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(new RegExp(DNS_LABEL_PATTERN), 'must be a DNS label: lower-case letters, digits and "-"');

export const Phases = [
  'Pending',
  'Prechecking',
  'Installing',
  'SwitchingTag',
  'UpgradingGateways',
  'RollingOut',
  'Soaking',
  'Uninstalling',
  'Succeeded',
  'RollingBack',
  'RolledBack',
  'Failed',
] as const;
export const PhaseSchema = z.enum(Phases);
export type Phase = z.infer<typeof PhaseSchema>;

export const TERMINAL_PHASES: readonly Phase[] = ['Succeeded', 'RolledBack', 'Failed'];

export const ConditionTypes = [
  'Ready',
  'Reconciling',
  'Stalled',
  'PrecheckPassed',
  'RevisionInstalled',
  'TagSwitched',
  'GatewaysUpgraded',
  'DataPlaneUpgraded',
  'SoakPassed',
  'OldRevisionRemoved',
] as const;
export const ConditionTypeSchema = z.enum(ConditionTypes);
export type ConditionType = z.infer<typeof ConditionTypeSchema>;

export const WaveStates = ['Pending', 'InProgress', 'Soaking', 'Succeeded', 'Failed', 'RolledBack'] as const;
export const WaveStateSchema = z.enum(WaveStates);
export type WaveState = z.infer<typeof WaveStateSchema>;

/** Label keys may carry a DNS-subdomain prefix (253) and a name (63); values are at most 63 characters. */
const labelKey = z.string().min(1).max(317);
const labelValue = z.string().max(63);

const LabelSelectorRequirementSchema = z.object({
  key: labelKey,
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(labelValue).max(100).optional(),
});

export const LabelSelectorSchema = z
  .object({
    matchLabels: z
      .record(labelKey, labelValue)
      .refine((labels) => Object.keys(labels).length <= 64, 'at most 64 labels')
      .optional()
      .meta({ maxProperties: 64 }),
    matchExpressions: z.array(LabelSelectorRequirementSchema).max(20).optional(),
  })
  .meta({ description: 'A Kubernetes label selector over namespace labels.' });
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

/** Helm caps release names at 53 characters (a release's Secret name carries a suffix). */
const helmReleaseName = z
  .string()
  .min(1)
  .max(53)
  .regex(new RegExp(DNS_LABEL_PATTERN), 'must be a Helm release name: lower-case letters, digits and "-"');

const chartValues = (chart: string) =>
  z
    .record(z.string(), z.unknown())
    .refine((values) => Object.keys(values).length <= 50, 'at most 50 top-level fields')
    .default({})
    .meta({ description: `Values of the ${chart} chart (helm -f), free-form.`, 'x-kubernetes-preserve-unknown-fields': true, maxProperties: 50 });

/** Where the Istio charts come from: an HTTP(S) chart repository (helm --repo) or an OCI registry path. */
export const HELM_REPOSITORY_PATTERN = '^(https?|oci)://[^\\s]+$';

export const HelmInstallerSchema = z
  .object({
    repository: z
      .string()
      .max(512)
      .regex(new RegExp(HELM_REPOSITORY_PATTERN), 'must be an http(s):// chart repository or an oci:// registry path')
      .optional()
      .meta({ description: 'Chart repository of the Istio charts base, istiod and gateway (e.g. https://istio-release.storage.googleapis.com/charts or oci://registry/istio). Required in helm mode. Chart versions are spec.version.' }),
    credentialsSecret: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Secret name')
      .optional()
      .meta({ description: 'Secret in the operator namespace with keys username and password for the repository.' }),
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(/^[^\s@]+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be an image reference with a tag, e.g. docker.io/alpine/helm:3.22.0')
      .default('docker.io/alpine/helm:3.22.0')
      .meta({ description: 'Helm image run as each Job (its entrypoint is helm); the repository must be allowed by the operator (--installer-images).' }),
    releases: z
      .object({
        base: helmReleaseName.default('istio-base').meta({ description: 'Release of the base chart (CRDs), upgraded in place.' }),
        istiod: z
          .string()
          .min(1)
          .max(53)
          .regex(/^[a-z0-9{}]([-a-z0-9{}]*[a-z0-9{}])?$/, 'must be a release name, where {revision} stands for the new revision')
          .default('istiod-{revision}')
          .meta({ description: 'Name of the new istiod release; {revision} is replaced by the revision. The old release is read from its istiod Deployment (meta.helm.sh/release-name).' }),
      })
      .prefault({}),
    values: z
      .object({ base: chartValues('base'), istiod: chartValues('istiod'), gateway: chartValues('gateway') })
      .prefault({}),
    gateways: z
      .array(z.object({ namespace: dnsLabel, release: helmReleaseName }))
      .max(20)
      .default([])
      .meta({ description: 'Gateway chart releases upgraded to spec.version after the tag switch (helm upgrade --reuse-values), and rolled back with helm rollback.' }),
  })
  .prefault({});

export const InstallerSchema = z
  .object({
    mode: z
      .enum(['istioctl', 'helm', 'external'])
      .default('istioctl')
      .meta({
        description:
          'istioctl: the operator runs istioctl Jobs. helm: the operator runs helm Jobs (base, a new istiod release, revisionTags moved between releases, gateway releases, helm uninstall). external: someone else (e.g. Argo CD) installs and removes revisions; the operator waits.',
      }),
    istioctl: z
      .object({
        image: z.string().min(1).max(512).default('docker.io/istio/istioctl').meta({ description: 'Image run as a Job, with tag <version>.' }),
        profile: z.string().min(1).max(63).regex(/^[A-Za-z0-9][-A-Za-z0-9_.]*$/, 'must be a profile name such as minimal or default').default('minimal').meta({ description: 'istioctl install profile (--set profile=...).' }),
        values: z
          .record(z.string(), z.unknown())
          .refine((values) => Object.keys(values).length <= 50, 'at most 50 top-level fields')
          .default({})
          .meta({ description: 'Free-form IstioOperator spec overlay passed to istioctl install.', 'x-kubernetes-preserve-unknown-fields': true, maxProperties: 50 }),
      })
      .prefault({}),
    helm: HelmInstallerSchema,
  })
  .check((ctx) => {
    if (ctx.value.mode === 'helm' && ctx.value.helm.repository === undefined) ctx.issues.push({ code: 'custom', path: ['helm', 'repository'], message: 'installer.helm.repository is required in helm mode', input: ctx.value });
  })
  .meta({ 'x-kubernetes-validations': [{ rule: "!has(self.mode) || self.mode != 'helm' || (has(self.helm) && has(self.helm.repository))", message: 'installer.helm.repository is required in helm mode' }] })
  .prefault({});
export type HelmInstaller = z.infer<typeof HelmInstallerSchema>;

/** Longest PromQL accepted: a bound on what each evaluation sends and the status keeps. */
export const MAX_QUERY_LENGTH = 4096;

export const PrometheusCheckSchema = z
  .object({
    name: dnsLabel,
    query: z
      .string()
      .min(1)
      .max(MAX_QUERY_LENGTH)
      .meta({
        description:
          'PromQL judged during each soak (waves, and gateways unless gatewayQuery is set). Placeholders: {{namespaces}} and {{workloads}} (regexes of the namespaces and workload names under soak), {{reporter}} (destination for a wave, source for gateways), {{namespace_label}} and {{workload_label}} (destination_workload_namespace / destination_workload for a wave, source_workload_namespace / source_workload for gateways). Every series of the result must pass.',
      }),
    gatewayQuery: z.string().min(1).max(MAX_QUERY_LENGTH).optional().meta({ description: 'The PromQL used for the gateways soak instead of query (same placeholders).' }),
    max: z.number().optional().meta({ description: 'The check fails when a series is above max (+Inf is above any max).' }),
    min: z.number().optional().meta({ description: 'The check fails when a series is below min (-Inf is below any min).' }),
    allowNoData: z
      .boolean()
      .default(false)
      .meta({ description: 'Let a soak pass when this check saw no data at all (no series, or only NaN). Default: such a soak fails with NoTraffic.' }),
    failOnNoData: z.boolean().optional().meta({ description: 'Deprecated and ignored: a soak without data fails unless allowNoData is set.' }),
  })
  .meta({ 'x-kubernetes-validations': [{ rule: 'has(self.max) || has(self.min)', message: 'a check needs max or min' }] });

export const PrometheusSchema = z.object({
  address: z.string().max(2048).regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL').meta({ description: 'Base URL of the Prometheus HTTP API.' }),
  interval: duration('30s', '1s').meta({ description: 'How often the checks are evaluated during a soak (at least 1s).' }),
  failureLimit: z.int().min(0).max(100).default(2).meta({ description: 'Evaluations with a check out of bounds tolerated per soak; one more fails it (SoakFailed).' }),
  metricsUnavailableLimit: z
    .int()
    .min(0)
    .max(100)
    .default(3)
    .meta({ description: 'Evaluations Prometheus could not answer (unreachable, 5xx, timeout) tolerated per soak; one more fails it (MetricsUnavailable). While it cannot answer, the soak clock holds.' }),
  checks: z.array(PrometheusCheckSchema).min(1).max(20),
});

export const BuiltinChecksSchema = z
  .object({
    enabled: z.boolean().default(true).meta({ description: 'Judge the health the operator sees itself on every soak, with or without Prometheus.' }),
    proxyRestarts: z.boolean().default(true).meta({ description: 'Fail when an istio-proxy container of a soaked workload restarts.' }),
    appRestarts: z.boolean().default(true).meta({ description: 'Fail when any other container of a soaked workload restarts.' }),
    crashLoopBackOff: z.boolean().default(true).meta({ description: 'Fail when a container of a soaked workload is in CrashLoopBackOff.' }),
    istiod: z.boolean().default(true).meta({ description: 'Fail when the new istiod restarts or is not Ready.' }),
    notReadyFor: duration('60s').meta({ description: 'Fail when a pod of a soaked workload is not Ready for longer than this (0s: off).' }),
  })
  .prefault({});

export const WaveSchema = z
  .object({
    name: dnsLabel,
    namespaces: z.array(dnsLabel).max(1000).optional().meta({ description: 'Explicit namespaces (each must use the tag).' }),
    namespaceSelector: LabelSelectorSchema.optional(),
    maxConcurrentNamespaces: z.int().min(1).max(1000).default(1).meta({ description: 'Namespaces of this wave restarted at the same time.' }),
    requireApproval: z
      .boolean()
      .default(false)
      .meta({ description: 'Wait before this wave until the IstioUpgrade has annotation istioupgrade.dev/approve=<wave name>.' }),
    tag: dnsLabel
      .optional()
      .meta({ description: 'The tag whose namespaces this wave restarts (spec.tag or one of spec.additionalTags; default spec.tag). The first wave of an additional tag moves that tag, after the previous soak passed.' }),
  })
  .refine((wave) => wave.namespaces === undefined || wave.namespaceSelector === undefined, 'set namespaces or namespaceSelector, not both')
  .meta({
    'x-kubernetes-validations': [
      { rule: '!(has(self.namespaces) && has(self.namespaceSelector))', message: 'set namespaces or namespaceSelector, not both' },
    ],
  });
export type Wave = z.infer<typeof WaveSchema>;

export const RolloutSchema = z
  .object({
    waves: z
      .array(WaveSchema)
      .min(1)
      .max(50)
      .refine((waves) => new Set(waves.map((w) => w.name)).size === waves.length, 'wave names must be unique')
      .refine(
        (waves) => waves.every((w, i) => w.namespaces !== undefined || w.namespaceSelector !== undefined || !waves.slice(i + 1).some((o) => o.tag === w.tag)),
        'only the last wave of each tag may omit namespaces and namespaceSelector (it takes every remaining namespace of its tag)',
      )
      .default([{ name: 'all', maxConcurrentNamespaces: 1, requireApproval: false }])
      .meta({
        'x-kubernetes-validations': [
          { rule: 'self.all(w, self.exists_one(o, o.name == w.name))', message: 'wave names must be unique' },
          {
            rule: 'self.all(w, has(w.namespaces) || has(w.namespaceSelector) || self.filter(o, (has(o.tag) ? o.tag : "") == (has(w.tag) ? w.tag : ""))[size(self.filter(o, (has(o.tag) ? o.tag : "") == (has(w.tag) ? w.tag : ""))) - 1] == w)',
            message: 'only the last wave of each tag may omit namespaces and namespaceSelector (it takes every remaining namespace of its tag)',
          },
        ],
      }),
    excludeNamespaces: z.array(dnsLabel).max(1000).default([]).meta({ description: 'Namespaces never restarted by any wave.' }),
    adoptPinnedNamespaces: z
      .boolean()
      .default(false)
      .meta({ description: 'Namespaces labelled istio.io/rev=<old revision> are relabelled istio.io/rev=<tag> in their wave and restarted (the migration to revision tags). Default: they are left alone, reported, and block the uninstall.' }),
    workloadTimeout: duration('10m').meta({ description: 'How long a restarted workload (or a freshly installed istiod) may take to come up on the new revision.' }),
  })
  .prefault({});

export const SoakSchema = z
  .object({
    duration: duration('5m').meta({ description: 'How long to hold after the gateways and after each wave.' }),
    prometheus: PrometheusSchema.optional(),
    builtin: BuiltinChecksSchema,
  })
  .prefault({});

export const IstioUpgradeSpecSchema = z
  .object({
    version: z
      .string()
      .max(32)
      .regex(new RegExp(VERSION_PATTERN), 'must be an Istio version X.Y.Z, e.g. 1.28.1')
      .meta({ description: 'Target Istio version X.Y.Z.' }),
    revision: dnsLabel.optional().meta({ description: "Revision to install; default is version with '.' replaced by '-'." }),
    tag: dnsLabel.default('default').meta({ description: 'The revision tag to move.' }),
    additionalTags: z
      .array(dnsLabel)
      .max(10)
      .default([])
      .meta({ description: 'Further tags on the old revision moved by this upgrade, each at the start of the first wave that names it (rollout.waves[].tag), e.g. prod-stable after prod-canary.' }),
    fromRevision: dnsLabel.optional().meta({ description: 'Revision being replaced; default is the revision the tag points at when the upgrade starts.' }),
    installer: InstallerSchema,
    precheck: z
      .object({
        maxMinorSkip: z.int().min(0).max(10).default(2).meta({ description: 'Most minor versions one canary upgrade may jump.' }),
        istioctl: z.boolean().default(true).meta({ description: 'Also run `istioctl x precheck` as a Job.' }),
        allowDowngrade: z.boolean().default(false).meta({ description: 'Allow a target older than the running version.' }),
      })
      .prefault({}),
    gateways: z
      .array(z.object({ namespace: dnsLabel, name: z.string().min(1).max(253) }))
      .max(100)
      .default([])
      .meta({ description: 'Gateway Deployments restarted in place after the tag switch.' }),
    rollout: RolloutSchema,
    soak: SoakSchema,
    rollback: z
      .object({
        automatic: z.boolean().default(true).meta({ description: 'On a failure after the precheck, move the tag back and restart what moved.' }),
        removeNewRevision: z
          .boolean()
          .default(false)
          .meta({ description: 'After a complete rollback, uninstall the new revision (istioctl mode; only when nothing uses it).' }),
      })
      .prefault({}),
    uninstall: z
      .object({
        enabled: z.boolean().default(true).meta({ description: 'Remove the old revision at the end (only once nothing uses it).' }),
        gracePeriod: duration('10m').meta({ description: 'How long the old revision must stay unused before it is removed.' }),
      })
      .prefault({}),
    paused: z.boolean().default(false).meta({ description: 'Halt before the next action; clear to resume.' }),
  })
  .check((ctx) => {
    const tags = [ctx.value.tag, ...ctx.value.additionalTags];
    if (new Set(tags).size !== tags.length) ctx.issues.push({ code: 'custom', path: ['additionalTags'], message: 'tags must be unique and differ from spec.tag', input: ctx.value });
    for (const wave of ctx.value.rollout.waves) {
      if (wave.tag !== undefined && !tags.includes(wave.tag)) ctx.issues.push({ code: 'custom', path: ['rollout', 'waves'], message: `wave "${wave.name}" names tag "${wave.tag}", which is neither spec.tag nor in spec.additionalTags`, input: ctx.value });
    }
    for (const tag of ctx.value.additionalTags) {
      if (!ctx.value.rollout.waves.some((w) => w.tag === tag)) ctx.issues.push({ code: 'custom', path: ['additionalTags'], message: `additional tag "${tag}" is not named by any wave (rollout.waves[].tag)`, input: ctx.value });
    }
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: 'self.version == oldSelf.version', message: 'version is immutable: create a new IstioUpgrade' },
      {
        rule: 'has(self.revision) == has(oldSelf.revision) && (!has(self.revision) || self.revision == oldSelf.revision)',
        message: 'revision is immutable: create a new IstioUpgrade',
      },
      { rule: 'self.tag == oldSelf.tag', message: 'tag is immutable: create a new IstioUpgrade' },
      {
        rule: 'has(self.fromRevision) == has(oldSelf.fromRevision) && (!has(self.fromRevision) || self.fromRevision == oldSelf.fromRevision)',
        message: 'fromRevision is immutable: create a new IstioUpgrade',
      },
      { rule: 'self.installer == oldSelf.installer', message: 'installer is immutable: create a new IstioUpgrade' },
      { rule: 'self.additionalTags == oldSelf.additionalTags', message: 'additionalTags is immutable: create a new IstioUpgrade' },
      { rule: 'self.additionalTags.all(t, t != self.tag && self.additionalTags.exists_one(o, o == t))', message: 'additionalTags must be unique and differ from spec.tag' },
      { rule: 'self.rollout.waves.all(w, !has(w.tag) || w.tag == self.tag || w.tag in self.additionalTags)', message: 'a wave may only name spec.tag or one of spec.additionalTags' },
      { rule: 'self.additionalTags.all(t, self.rollout.waves.exists(w, has(w.tag) && w.tag == t))', message: 'every additional tag must be named by a wave (rollout.waves[].tag)' },
    ],
  });
export type IstioUpgradeSpec = z.infer<typeof IstioUpgradeSpecSchema>;
export type IstioUpgradeSpecInput = z.input<typeof IstioUpgradeSpecSchema>;

export const ConditionSchema = z.object({
  type: ConditionTypeSchema,
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  message: z.string().max(32768),
  observedGeneration: z.int().min(0),
  lastTransitionTime: z.string(),
});
export type Condition = z.infer<typeof ConditionSchema>;

export const WaveStatusSchema = z.object({
  name: z.string(),
  state: WaveStateSchema,
  namespaces: z.array(z.string()).default([]),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
});
export type WaveStatus = z.infer<typeof WaveStatusSchema>;

export const CheckResultSchema = z.object({
  name: z.string(),
  outcome: z.enum(['Passed', 'Failed', 'NoData', 'Error']),
  value: z.number().optional().meta({ description: 'The worst series (the one furthest out of bounds, else the highest).' }),
  series: z.int().min(0).optional().meta({ description: 'How many series the check returned.' }),
  message: z.string().max(1024).optional(),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

/** Lists in the status are bounded; the count beside a list says how many there are in all. */
export const MAX_LISTED = 50;

export const PlannedWaveSchema = z.object({
  name: z.string(),
  tag: z.string(),
  namespaces: z.array(z.string()).max(MAX_LISTED),
  namespaceCount: z.int().min(0),
  workloads: z.int().min(0),
});

export const PlanItemSchema = z.object({
  kind: z.string().meta({ description: 'Deployment, StatefulSet, DaemonSet, Pod, Namespace, MutatingWebhookConfiguration, ...' }),
  name: z.string().meta({ description: 'namespace/name, or name for cluster-scoped objects.' }),
  reason: z.string(),
  message: z.string(),
});
export type PlanItem = z.infer<typeof PlanItemSchema>;

export const UpgradePlanSchema = z.object({
  waves: z.array(PlannedWaveSchema).max(50),
  gateways: z.array(z.string()).max(100).optional(),
  skipped: z.array(PlanItemSchema).max(MAX_LISTED).optional().meta({ description: 'Workloads and pods that are never restarted, with the reason.' }),
  skippedCount: z.int().min(0).optional(),
  blockers: z.array(PlanItemSchema).max(MAX_LISTED).optional().meta({ description: 'What keeps the old revision in use and will hold the uninstall until it is moved or removed.' }),
  blockerCount: z.int().min(0).optional(),
  managedByIstiod: z.array(z.string()).max(MAX_LISTED).optional().meta({ description: 'Gateway API gateways and waypoints that istiod re-renders itself when the tag moves.' }),
  removals: z.array(z.string()).max(MAX_LISTED).optional().meta({ description: 'What `istioctl uninstall --revision <old>` (helm mode: `helm uninstall <old release>`) will delete at the end.' }),
  warnings: z.array(z.string()).max(MAX_LISTED).optional(),
});
export type UpgradePlan = z.infer<typeof UpgradePlanSchema>;

export const IstioUpgradeStatusSchema = z.object({
  observedGeneration: z.int().min(0).optional(),
  phase: PhaseSchema.optional(),
  fromRevision: z.string().optional(),
  toRevision: z.string().optional(),
  fromVersion: z.string().optional(),
  adoptedRevision: z.boolean().optional().meta({ description: 'True when the target revision already existed (same version, Ready) and was adopted, not installed.' }),
  currentWave: z.string().optional(),
  waves: z.array(WaveStatusSchema).optional(),
  workloads: z
    .object({ total: z.int().min(0), upgraded: z.int().min(0), pending: z.int().min(0), skipped: z.int().min(0) })
    .optional(),
  upgraded: z.string().optional().meta({ description: 'Upgraded/total workloads, e.g. 7/12 (printer column).' }),
  skippedWorkloads: z.array(z.string()).optional().meta({ description: 'Pods and workloads that are reported, never restarted (Jobs, CronJobs, bare pods, not injected).' }),
  soak: z
    .object({
      target: z.string(),
      failures: z.int().min(0).meta({ description: 'Evaluations with a check out of bounds.' }),
      unavailable: z.int().min(0).optional().meta({ description: 'Evaluations the metrics provider could not answer.' }),
      heldMs: z.int().min(0).optional().meta({ description: 'Time the soak clock held while nothing could be measured.' }),
      lastEvaluatedAt: z.string().optional(),
      workloads: z.array(z.string()).max(200).optional().meta({ description: 'Names of the workloads under soak ({{workloads}}).' }),
      sawData: z.array(z.string()).max(40).optional().meta({ description: 'Checks that returned data at least once in this soak.' }),
      baseline: z.record(z.string(), z.int().min(0)).optional().meta({ description: 'Container restart counts when the soak began (namespace/pod/container; zero ones left out).' }),
      results: z.array(CheckResultSchema).optional(),
    })
    .optional(),
  queriesChecked: z.boolean().optional().meta({ description: 'Prometheus accepted every soak query at the precheck.' }),
  plan: UpgradePlanSchema.optional().meta({ description: 'What the upgrade will do, computed at the precheck before anything changes (also printed by `istio-upgrade-operator plan`).' }),
  rollback: z
    .object({
      startedAt: z.string().optional(),
      notMovedBack: z.array(z.string()).max(MAX_LISTED).optional().meta({ description: 'Pods on the new revision the rollback does not restart (excluded namespaces, Jobs, bare pods), with why.' }),
      notMovedBackCount: z.int().min(0).optional(),
    })
    .optional(),
  evictions: z
    .array(z.object({ workload: z.string(), pod: z.string(), uid: z.string(), at: z.string() }))
    .max(1000)
    .optional()
    .meta({ description: 'Pods evicted (OnDelete workloads) whose replacement is not seen yet: no other pod of the same workload is evicted until it is.' }),
  tagReverts: z.int().min(0).optional().meta({ description: 'Times a moved tag was found pointing elsewhere after the switch and written again (more than 3 fail the upgrade: TagReverted).' }),
  oldRevisionUnusedSince: z.string().optional(),
  failure: z.object({ phase: PhaseSchema, reason: z.string(), message: z.string() }).optional(),
  conditions: z.array(ConditionSchema).optional(),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
});
export type IstioUpgradeStatus = z.infer<typeof IstioUpgradeStatusSchema>;

export const IstioUpgradeSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.object({
    name: z.string(),
    uid: z.string(),
    generation: z.int().default(1),
    creationTimestamp: z.string(),
    annotations: z.record(z.string(), z.string()).default({}),
  }),
  spec: IstioUpgradeSpecSchema,
  status: IstioUpgradeStatusSchema.default({}),
});
export type IstioUpgrade = z.infer<typeof IstioUpgradeSchema>;
