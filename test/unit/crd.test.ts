// The committed CRD is what `npm run generate` writes, and it is a structural schema the API server accepts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import yaml from 'js-yaml';
import { CRD_FILE, DEPLOY_CRD_FILE, renderCrdYaml } from '../../scripts/crd-file.ts';
import { IstioUpgradeSpecSchema, Phases, ConditionTypes } from '../../src/api/schema.ts';

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function crd(): Node {
  const doc = yaml.load(readFileSync(CRD_FILE, 'utf8'));
  assert.ok(isNode(doc));
  return doc;
}

function version(): Node {
  const spec = crd().spec;
  assert.ok(isNode(spec) && Array.isArray(spec.versions));
  const v: unknown = spec.versions[0];
  assert.ok(isNode(v));
  return v;
}

function rootSchema(): Node {
  const schema = version().schema;
  assert.ok(isNode(schema) && isNode(schema.openAPIV3Schema));
  return schema.openAPIV3Schema;
}

/** Every violation of the structural-schema rules (apiextensions validation) under a node. */
function structuralViolations(node: Node, path: string, out: string[]): string[] {
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (typeof node.type !== 'string' && !preserve && node['x-kubernetes-int-or-string'] !== true) out.push(`${path}: no type`);
  if (node.properties !== undefined && node.additionalProperties !== undefined) out.push(`${path}: additionalProperties beside properties`);
  if (node.additionalProperties === false) out.push(`${path}: additionalProperties: false`);
  for (const forbidden of ['$ref', 'anyOf', 'oneOf', 'allOf', 'not', 'definitions', '$schema', 'nullable', 'const']) {
    if (forbidden in node) out.push(`${path}: uses ${forbidden}`);
  }
  if (node.type === 'array' && !isNode(node.items)) out.push(`${path}: array without items`);
  if (isNode(node.properties)) for (const [k, v] of Object.entries(node.properties)) if (isNode(v)) structuralViolations(v, `${path}.${k}`, out);
  if (isNode(node.items)) structuralViolations(node.items, `${path}[]`, out);
  if (isNode(node.additionalProperties)) structuralViolations(node.additionalProperties, `${path}{}`, out);
  return out;
}

function at(path: string): Node {
  let node: Node = rootSchema();
  for (const part of path.split('.')) {
    const props = node.properties;
    assert.ok(isNode(props), `no properties at ${part}`);
    const next = props[part];
    assert.ok(isNode(next), `no ${part} in ${path}`);
    node = next;
  }
  return node;
}

describe('generated CRD', () => {
  it('matches what npm run generate writes (no drift), in crds/ and in the kustomize base', () => {
    assert.equal(readFileSync(CRD_FILE, 'utf8'), renderCrdYaml(), 'crds/ is stale: run `npm run generate` and commit');
    assert.equal(readFileSync(DEPLOY_CRD_FILE, 'utf8'), renderCrdYaml(), 'deploy/crd.yaml is stale: run `npm run generate` and commit');
  });

  it('is a structural schema: every node typed, no additionalProperties beside properties, no unsupported keywords', () => {
    assert.deepEqual(structuralViolations(rootSchema(), '', []), []);
  });

  it('has the fixed identity: group, kind, plural, short name, cluster scope, status subresource', () => {
    const spec = crd().spec;
    assert.ok(isNode(spec));
    assert.equal(spec.group, 'istioupgrade.dev');
    assert.equal(spec.scope, 'Cluster');
    assert.deepEqual(spec.names, { kind: 'IstioUpgrade', listKind: 'IstioUpgradeList', plural: 'istioupgrades', singular: 'istioupgrade', shortNames: ['iu'], categories: ['istio-io'] });
    assert.equal(version().name, 'v1alpha1');
    assert.deepEqual(version().subresources, { status: {} });
  });

  it('has the printer columns Phase, From, To, Wave, Upgraded, Age', () => {
    const columns = version().additionalPrinterColumns;
    assert.ok(Array.isArray(columns));
    assert.deepEqual(columns.map((c: Node) => c.name), ['Phase', 'From', 'To', 'Wave', 'Upgraded', 'Age']);
  });

  it('carries patterns, enums and defaults inside the schema', () => {
    assert.equal(at('spec.version').pattern, '^[0-9]+\\.[0-9]+\\.[0-9]+$');
    assert.equal(at('spec.revision').pattern, '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$');
    assert.equal(at('spec.revision').maxLength, 63);
    assert.equal(at('spec.tag').default, 'default');
    assert.deepEqual(at('spec.installer.mode').enum, ['istioctl', 'helm', 'external']);
    assert.equal(at('spec.installer.mode').default, 'istioctl');
    assert.equal(at('spec.precheck.maxMinorSkip').default, 2);
    assert.equal(at('spec.rollout.workloadTimeout').default, '10m');
    assert.equal(at('spec.soak.duration').default, '5m');
    assert.equal(at('spec.rollback.automatic').default, true);
    assert.equal(at('spec.uninstall.gracePeriod').default, '10m');
    assert.equal(at('spec.installer.istioctl.values')['x-kubernetes-preserve-unknown-fields'], true);
    assert.deepEqual(at('status.phase').enum, [...Phases]);
    const condition = at('status.conditions').items;
    assert.ok(isNode(condition) && isNode(condition.properties) && isNode(condition.properties.type));
    assert.deepEqual(condition.properties.type.enum, [...ConditionTypes]);
    assert.deepEqual(rootSchema().required, ['spec']);
    assert.deepEqual(at('spec').required, ['version']);
  });

  it('makes version, revision, tag, fromRevision and installer immutable with CEL transition rules', () => {
    const rules = at('spec')['x-kubernetes-validations'];
    assert.ok(Array.isArray(rules));
    const text = rules.map((r: Node) => String(r.rule)).join('\n');
    for (const field of ['version', 'revision', 'tag', 'fromRevision', 'installer']) {
      assert.match(text, new RegExp(`self\\.${field} == oldSelf\\.${field}`), `${field} is immutable`);
    }
    for (const r of rules.filter((r: Node) => String(r.rule).includes('oldSelf'))) assert.match(String((r as Node).message), /immutable: create a new IstioUpgrade/);
    assert.match(text, /self\.additionalTags == oldSelf\.additionalTags/, 'additionalTags is immutable');
  });

  it('checks tags across fields with CEL: unique, and every wave tag is spec.tag or an additional tag that a wave names', () => {
    const rules = at('spec')['x-kubernetes-validations'];
    assert.ok(Array.isArray(rules));
    const messages = rules.map((r: Node) => String(r.message));
    for (const m of ['additionalTags must be unique', 'a wave may only name spec.tag or one of spec.additionalTags', 'every additional tag must be named by a wave']) {
      assert.ok(messages.some((x: string) => x.startsWith(m)), m);
    }
  });
});

describe('the shipped example', () => {
  it('examples/upgrade.yaml is a valid IstioUpgrade whose checks fit gateways and waves', () => {
    const manifest = yaml.load(readFileSync(new URL('../../examples/upgrade.yaml', import.meta.url), 'utf8')) as { kind: string; spec: unknown };
    assert.equal(manifest.kind, 'IstioUpgrade');
    const spec = IstioUpgradeSpecSchema.parse(manifest.spec);
    for (const check of spec.soak.prometheus?.checks ?? []) {
      assert.match(check.query, /\{\{reporter\}\}/, `${check.name}: the same query serves gateways (source) and waves (destination)`);
      assert.match(check.query, /or /, `${check.name}: the numerator does not vanish when there are no 5xx`);
    }
  });

  it('examples/upgrade-helm.yaml is a valid helm-mode IstioUpgrade', () => {
    const manifest = yaml.load(readFileSync(new URL('../../examples/upgrade-helm.yaml', import.meta.url), 'utf8')) as { kind: string; spec: unknown };
    const spec = IstioUpgradeSpecSchema.parse(manifest.spec);
    assert.equal(spec.installer.mode, 'helm');
    assert.equal(spec.installer.helm.releases.istiod, 'istiod-{revision}');
    assert.deepEqual(spec.installer.helm.gateways, [{ namespace: 'istio-ingress', release: 'istio-ingress' }]);
  });

  it('helm mode needs a repository (zod, and CEL in the CRD)', () => {
    const refused = IstioUpgradeSpecSchema.safeParse({ version: '1.31.0', installer: { mode: 'helm' } });
    assert.equal(refused.success, false);
    assert.match(JSON.stringify(refused.error?.issues), /installer.helm.repository is required in helm mode/);
    assert.equal(IstioUpgradeSpecSchema.safeParse({ version: '1.31.0', installer: { mode: 'helm', helm: { repository: 'oci://r.example/istio' } } }).success, true);
    assert.equal(IstioUpgradeSpecSchema.safeParse({ version: '1.31.0', installer: { mode: 'helm', helm: { repository: 'ftp://r.example' } } }).success, false);
    const crd = readFileSync(new URL('../../crds/istioupgrade.dev_istioupgrades.yaml', import.meta.url), 'utf8');
    assert.match(crd, /has\(self\.helm\) && has\(self\.helm\.repository\)\)'\n\s+message: installer\.helm\.repository is required in helm mode/);
  });
});
