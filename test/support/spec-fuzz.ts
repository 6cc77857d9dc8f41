// Random and malformed IstioUpgrade specs and hand-edited statuses for the input fuzz test, each spec with
// what must become of it, worked out independently of the schema: rejected by the API server, refused at the
// precheck with one of some reasons (touching nothing), or accepted.
import { DNS_LABEL_PATTERN, DURATION_PATTERN, Phases, VERSION_PATTERN } from '../../src/api/schema.ts';
import { parseDuration } from '../../src/core/duration.ts';
import { seededRandom } from '../../hack/e2e/fault-proxy.ts';
import { E2E_SPEC, NEW } from './fixtures.ts';

export type Expectation = { readonly kind: 'reject' } | { readonly kind: 'refuse'; readonly reasons: readonly string[] } | { readonly kind: 'accept' };

export interface FuzzCase {
  readonly spec: Record<string, unknown>;
  readonly mutations: readonly string[];
  readonly expect: Expectation;
}

/** The seeded generator of the fault proxy (mulberry32): a failing case is reproduced from the seed printed. */
export const prng = seededRandom;

type Random = () => number;
const pick = <T>(rnd: Random, items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
const int = (rnd: Random, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
const text = (rnd: Random, alphabet: string, maxLength: number): string => Array.from({ length: int(rnd, 0, maxLength) }, () => alphabet.charAt(int(rnd, 0, alphabet.length - 1))).join('');

/** The base every case mutates: a valid upgrade of the sample mesh (fixtures.sampleMesh) with short soaks. */
export function baseSpec(): Record<string, unknown> {
  return structuredClone({ version: NEW.version, ...E2E_SPEC, soak: { duration: '5s' }, uninstall: { gracePeriod: '5s' }, precheck: { istioctl: false } }) as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

const REJECT: Expectation = { kind: 'reject' };
const ACCEPT: Expectation = { kind: 'accept' };
const refuse = (...reasons: string[]): Expectation => ({ kind: 'refuse', reasons });
const WRONG_TYPES: readonly unknown[] = [7, -1, 1.5, true, [], {}, ['x'], 'x'];

/** What a duration field's value must become: CEL duration() bounds, the pattern and the length. */
function durationExpectation(value: unknown, min: string): Expectation {
  if (value === null) return ACCEPT; // dropped by the API server, then defaulted
  if (typeof value !== 'string' || value.length > 32 || !new RegExp(DURATION_PATTERN).test(value)) return REJECT;
  const ms = parseDuration(value);
  return ms >= parseDuration(min) && ms <= parseDuration('720h') ? ACCEPT : REJECT;
}

function versionExpectation(value: unknown): Expectation {
  if (typeof value !== 'string' || value.length > 32 || !new RegExp(VERSION_PATTERN).test(value)) return REJECT;
  const parts = value.split('.');
  // 01.31.0 names revision 01-31-0: what the precheck makes of that is not this oracle's to say.
  if (parts.some((p) => p.length > 1 && p.startsWith('0'))) return ACCEPT;
  const [major, minor, patch] = parts.map(Number) as [number, number, number];
  if (major < 1 || (major === 1 && (minor < 30 || (minor === 30 && patch < 4)))) return refuse('DowngradeNotAllowed');
  if (major > 1 || minor > 32) return refuse('VersionSkewTooLarge');
  if (minor === 30 && patch === 4) return refuse('AlreadyOnRevision', 'RevisionConflict');
  // A different spelling of the same revision name (1.31.00 -> 1-31-00) is a new revision: accepted.
  return ACCEPT;
}

interface Mutation {
  readonly slot: string;
  /** Changes nothing the precheck judges, so it combines with a refused case without changing its reason. */
  readonly inert: boolean;
  apply(spec: Record<string, unknown>, rnd: Random): { label: string; expect: Expectation };
}

const DURATION_FIELDS: readonly { path: string[]; min: string }[] = [
  { path: ['soak', 'duration'], min: '0s' },
  { path: ['uninstall', 'gracePeriod'], min: '0s' },
  { path: ['rollout', 'workloadTimeout'], min: '0s' },
  { path: ['soak', 'builtin', 'notReadyFor'], min: '0s' },
  { path: ['soak', 'prometheus', 'interval'], min: '1s' },
];

const PROMETHEUS = { address: 'http://prometheus.monitoring:9090', checks: [{ name: 'errors', query: 'vector(0)', max: 0.05 }] };

/** The spec's soak.prometheus, created valid when missing, so several mutations can each change one field. */
function prometheus(spec: Record<string, unknown>): Record<string, unknown> {
  const soak = (spec.soak ??= {}) as Record<string, unknown>;
  return (soak.prometheus ??= structuredClone(PROMETHEUS)) as Record<string, unknown>;
}

/** A duration as a user might write one: mostly well-formed, some out of bounds. */
function plausibleDuration(rnd: Random): string {
  const parts = int(rnd, 1, 3);
  return Array.from({ length: parts }, () => `${pick(rnd, [0, 1, 5, 30, 90, 500, 720, 721, 1000, 99999])}${pick(rnd, ['ms', 's', 'm', 'h'])}`).join('');
}

const MUTATIONS: readonly Mutation[] = [
  {
    slot: 'version',
    inert: false,
    apply(spec, rnd) {
      const roll = rnd();
      const value = roll < 0.4 ? text(rnd, '0123456789...123v-rc', 36) : roll < 0.8 ? `${pick(rnd, [0, 1, 1, 1, 2])}.${int(rnd, 27, 34)}.${int(rnd, 0, 12)}` : pick(rnd, [...WRONG_TYPES, null, '1.33.0', '2.0.0', '1.29.2', '1.30.4', '1.31.7', '1.30.9']);
      spec.version = value;
      return { label: `version=${JSON.stringify(value)}`, expect: value === null ? REJECT : versionExpectation(value) };
    },
  },
  {
    slot: 'duration',
    inert: true,
    apply(spec, rnd) {
      const field = pick(rnd, DURATION_FIELDS);
      const roll = rnd();
      const value = roll < 0.3 ? text(rnd, '0123456789.hmsh7201', 40) : roll < 0.7 ? plausibleDuration(rnd) : pick(rnd, [...WRONG_TYPES, null, '720h', '721h', '720h1ms', '1ms', '999ms', '1s', '0s', '30d', '-5s', '5 s', '1e3h', 'P1D', `${'0'.repeat(30)}1s`]);
      if (field.path[1] === 'prometheus') prometheus(spec).interval = value;
      else setPath(spec, field.path, value);
      return { label: `${field.path.join('.')}=${JSON.stringify(value)}`, expect: durationExpectation(value, field.min) };
    },
  },
  {
    slot: 'number',
    inert: true,
    apply(spec, rnd) {
      const [field, lo, hi] = pick(rnd, [
        ['failureLimit', 0, 100],
        ['metricsUnavailableLimit', 0, 100],
      ] as const);
      const value = pick(rnd, [-1, 0, 1, 2, 50, 100, 101, 999, 1000, 1001, 1.5, -0.5, 1e12, '3', true, null]);
      prometheus(spec)[field] = value;
      const path = ['soak', 'prometheus', field];
      const ok = value === null || (typeof value === 'number' && Number.isInteger(value) && value >= lo && value <= hi);
      return { label: `${path.join('.')}=${JSON.stringify(value)}`, expect: ok ? ACCEPT : REJECT };
    },
  },
  {
    slot: 'strings',
    inert: true,
    apply(spec, rnd) {
      const choice = int(rnd, 0, 4);
      switch (choice) {
        case 0: {
          const length = pick(rnd, [0, 1, 4096, 4097, 10_000]);
          prometheus(spec).checks = [{ name: 'q', query: 'x'.repeat(length), max: 1 }];
          return { label: `query of ${length} characters`, expect: length >= 1 && length <= 4096 ? ACCEPT : REJECT };
        }
        case 1: {
          const value = pick(rnd, ['ftp://prometheus', 'http://', 'prometheus:9090', `http://${'p'.repeat(2100)}`, 'https://prom.example/api', 'http://a b']);
          prometheus(spec).address = value;
          return { label: `address=${value.slice(0, 40)}`, expect: /^https?:\/\/[^\s/]+(\/\S*)?$/.test(value) && value.length <= 2048 ? ACCEPT : REJECT };
        }
        case 2: {
          const value = rnd() < 0.7 ? text(rnd, 'abcAB01_.-/ ', 70) : pick(rnd, [...WRONG_TYPES, 'x'.repeat(64)]);
          setPath(spec, ['installer', 'istioctl', 'profile'], value);
          const ok = typeof value === 'string' && value.length >= 1 && value.length <= 63 && /^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(value);
          return { label: `profile=${JSON.stringify(value)}`, expect: ok ? ACCEPT : REJECT };
        }
        case 3: {
          const keys = pick(rnd, [1, 50, 51, 200]);
          setPath(spec, ['installer', 'istioctl', 'values'], Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, { nested: [i] }])));
          return { label: `values with ${keys} fields`, expect: keys <= 50 ? ACCEPT : REJECT };
        }
        default: {
          const value = pick(rnd, ['Bad Name', 'UPPER', '-x', 'x'.repeat(64), '', 'ok-name']);
          prometheus(spec).checks = [{ name: value, query: 'vector(0)', max: 1 }];
          return { label: `check name=${JSON.stringify(value)}`, expect: new RegExp(DNS_LABEL_PATTERN).test(value) && value.length <= 63 ? ACCEPT : REJECT };
        }
      }
    },
  },
  {
    slot: 'waves',
    inert: false,
    apply(spec, rnd) {
      const choice = int(rnd, 0, 4);
      const wave = (selector: unknown) => ({ name: 'canary', namespaceSelector: selector });
      const cases: readonly [string, unknown, Expectation][] = [
        ['operator Like', { matchExpressions: [{ key: 'team', operator: 'Like', values: ['a'] }] }, REJECT],
        ['21 expressions', { matchExpressions: Array.from({ length: 21 }, (_, i) => ({ key: `k${i}`, operator: 'Exists' })) }, REJECT],
        ['101 values', { matchExpressions: [{ key: 'k', operator: 'In', values: Array.from({ length: 101 }, (_, i) => `v${i}`) }] }, REJECT],
        ['65 labels', { matchLabels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, REJECT],
        ['a 64-character label value', { matchLabels: { team: 'v'.repeat(64) } }, REJECT],
      ];
      const [label, selector, expect] = cases[choice] as [string, unknown, Expectation];
      setPath(spec, ['rollout', 'waves'], [wave(selector), { name: 'rest' }]);
      return { label: `selector: ${label}`, expect };
    },
  },
  {
    slot: 'waves',
    inert: false,
    apply(spec, rnd) {
      const cases: readonly [string, unknown, Expectation][] = [
        ['no waves', [], REJECT],
        ['51 waves', Array.from({ length: 51 }, (_, i) => ({ name: `w${i}`, namespaces: ['bar'] })), REJECT],
        ['duplicate names', [{ name: 'a', namespaces: ['bar'] }, { name: 'a' }], REJECT],
        ['namespaces and a selector', [{ name: 'a', namespaces: ['bar'], namespaceSelector: { matchLabels: { x: 'y' } } }, { name: 'b' }], REJECT],
        ['a wave without namespaces before the last', [{ name: 'a' }, { name: 'b', namespaces: ['bar'] }], REJECT],
        ['a wave naming an unknown tag', [{ name: 'a', tag: 'other' }], REJECT],
        ['a bad namespace name', [{ name: 'a', namespaces: ['Bar_1'] }, { name: 'b' }], REJECT],
        ['1001 namespaces', [{ name: 'a', namespaces: Array.from({ length: 1001 }, (_, i) => `n${i}`) }, { name: 'b' }], REJECT],
        ['a namespace that does not exist', [{ name: 'a', namespaces: ['ghost'] }, { name: 'b' }], refuse('InvalidWave')],
        ['maxConcurrentNamespaces 0', [{ name: 'a', maxConcurrentNamespaces: 0 }], REJECT],
        ['maxConcurrentNamespaces 1001', [{ name: 'a', maxConcurrentNamespaces: 1001 }], REJECT],
        ['maxConcurrentNamespaces 1.5', [{ name: 'a', maxConcurrentNamespaces: 1.5 }], REJECT],
        ['maxConcurrentNamespaces 1000', [{ name: 'a', namespaces: ['bar'] }, { name: 'b', maxConcurrentNamespaces: 1000 }], ACCEPT],
        ['one wave, requiring approval', [{ name: 'a', requireApproval: true }], ACCEPT],
        ['a selector wave', [{ name: 'a', namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['foo', 'bar'] }] } }, { name: 'b' }], ACCEPT],
      ];
      const [label, waves, expect] = pick(rnd, cases);
      setPath(spec, ['rollout', 'waves'], waves);
      return { label: `waves: ${label}`, expect };
    },
  },
  {
    slot: 'tags',
    inert: false,
    apply(spec, rnd) {
      const cases: readonly [string, Record<string, unknown>, Expectation][] = [
        ['tag not on the cluster', { tag: 'canary' }, refuse('TagNotFound')],
        ['tag not a DNS label', { tag: 'Canary_1' }, REJECT],
        ['additional tag equal to the tag', { additionalTags: ['default'] }, REJECT],
        ['additional tag named by no wave', { additionalTags: ['stable'] }, REJECT],
        ['11 additional tags', { additionalTags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, REJECT],
        ['fromRevision not the tag\'s', { fromRevision: '1-29-0' }, refuse('FromRevisionMismatch')],
        ['revision equal to the current one', { revision: '1-30-4' }, refuse('AlreadyOnRevision')],
        ['revision not a DNS label', { revision: 'Rev.1' }, REJECT],
        ['installer mode helm (not yet)', { installer: { mode: 'helm' } }, REJECT],
      ];
      const [label, change, expect] = pick(rnd, cases);
      Object.assign(spec, structuredClone(change));
      return { label: `tags: ${label}`, expect };
    },
  },
  {
    slot: 'gateways',
    inert: false,
    apply(spec, rnd) {
      const cases: readonly [string, unknown, Expectation][] = [
        ['a gateway that does not exist', [{ namespace: 'istio-ingress', name: 'nope' }], refuse('GatewayNotFound')],
        ['101 gateways', Array.from({ length: 101 }, (_, i) => ({ namespace: 'istio-ingress', name: `g${i}` })), REJECT],
        ['an empty gateway name', [{ namespace: 'istio-ingress', name: '' }], REJECT],
        ['a gateway without a namespace', [{ name: 'istio-ingressgateway' }], REJECT],
      ];
      const [label, gateways, expect] = pick(rnd, cases);
      spec.gateways = gateways;
      return { label: `gateways: ${label}`, expect };
    },
  },
  {
    slot: 'image',
    inert: false,
    apply(spec, rnd) {
      const value = pick(rnd, ['docker.io/istio/istioctl', 'evil.example/istioctl', 'docker.io/istio/istioctl-debug', 'i'.repeat(512), '', 'i'.repeat(513), 'i'.repeat(2000)]);
      setPath(spec, ['installer', 'istioctl', 'image'], value);
      // The CRD bounds the length; then only the operator's allowlist (DEFAULT_INSTALLER_IMAGES here) may run.
      const expect = value.length === 0 || value.length > 512 ? REJECT : value === 'docker.io/istio/istioctl' ? ACCEPT : refuse('InstallerImageNotAllowed');
      return { label: `image of ${value.length} characters: ${value.slice(0, 30)}`, expect };
    },
  },
  {
    slot: 'types',
    inert: true,
    apply(spec, rnd) {
      const path = pick(rnd, [['paused'], ['rollback', 'automatic'], ['uninstall', 'enabled'], ['soak', 'builtin', 'enabled'], ['rollout', 'adoptPinnedNamespaces'], ['precheck', 'allowDowngrade']]);
      const value = pick(rnd, ['yes', 1, 0, [], {}, 'true', null]);
      setPath(spec, path, value);
      return { label: `${path.join('.')}=${JSON.stringify(value)}`, expect: value === null ? ACCEPT : REJECT };
    },
  },
  {
    slot: 'unknown',
    inert: true,
    apply(spec, rnd) {
      const path = pick(rnd, [['surprise'], ['soak', 'surprise'], ['rollout', 'surprise'], ['uninstall', 'surprise']]);
      setPath(spec, path, pick(rnd, [1, 'x', { deep: [1, 2] }]));
      return { label: `unknown field ${path.join('.')}`, expect: ACCEPT };
    },
  },
];

/** One random case: one to three mutations of distinct slots; a refused case is combined only with inert ones. */
export function fuzzCase(rnd: Random): FuzzCase {
  const spec = baseSpec();
  const count = int(rnd, 1, 3);
  const used = new Set<string>();
  const labels: string[] = [];
  const expectations: Expectation[] = [];
  for (let i = 0; i < count * 3 && labels.length < count; i++) {
    const mutation = pick(rnd, MUTATIONS);
    if (used.has(mutation.slot)) continue;
    // Prechecks stop at the first failure; two non-inert mutations could hide one another's reason.
    if (!mutation.inert && [...used].some((slot) => MUTATIONS.find((m) => m.slot === slot)?.inert === false)) continue;
    used.add(mutation.slot);
    const { label, expect } = mutation.apply(spec, rnd);
    labels.push(label);
    expectations.push(expect);
  }
  const expect: Expectation = expectations.some((e) => e.kind === 'reject')
    ? REJECT
    : expectations.find((e) => e.kind === 'refuse') ?? ACCEPT;
  return { spec, mutations: labels, expect };
}

/** A random hand edit of the status: valid and invalid values of the fields the planner reads. */
export function statusEdit(rnd: Random): Record<string, unknown> {
  const edit: Record<string, unknown> = {};
  const fields = int(rnd, 1, 4);
  const stamp = () => pick(rnd, ['2026-11-30T10:00:00Z', 'yesterday', '', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z', 7]);
  for (let i = 0; i < fields; i++) {
    switch (int(rnd, 0, 8)) {
      case 0:
        edit.phase = pick(rnd, [...Phases, 'Nowhere', '', 3]);
        break;
      case 1:
        edit.fromRevision = pick(rnd, ['1-30-4', '1-29-0', '', 'BAD REV', 12]);
        break;
      case 2:
        edit.toRevision = pick(rnd, ['1-31-0', '1-30-4', 'x', '']);
        break;
      case 3:
        edit.waves = pick(rnd, [[], [{ name: 'canary', state: pick(rnd, ['Pending', 'InProgress', 'Soaking', 'Succeeded', 'Bogus']), namespaces: ['bar'], startedAt: stamp() }], 'all', [{ state: 'Soaking' }]]);
        break;
      case 4:
        edit.soak = pick(rnd, [{ target: 'wave/canary', failures: int(rnd, -1, 5), startedAt: stamp() }, { target: '', failures: 0 }, { failures: 'many' }, null]);
        break;
      case 5:
        edit.conditions = pick(rnd, [[], [{ type: 'Ready', status: 'True', reason: 'Done', message: '', lastTransitionTime: stamp() }], [{ type: 'Bogus', status: 'Maybe' }]]);
        break;
      case 6:
        edit.startedAt = stamp();
        break;
      case 7:
        edit.workloads = pick(rnd, [{ total: 3, upgraded: 5, pending: -1, skipped: 0 }, { total: 1, upgraded: 0, pending: 1, skipped: 0 }, 'lots']);
        break;
      default:
        edit.observedGeneration = pick(rnd, [0, 1, 99, -3, 'one']);
    }
  }
  return edit;
}

