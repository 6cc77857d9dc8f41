// The tag webhook the operator writes is the one `istioctl tag generate` renders (istio 1.30/1.31
// revision-tags-mwc.yaml and generate.go): names, selectors, client config, labels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTagWebhook as buildResult, tagWebhookName, type TagWebhook, type TagWebhookInput } from '../../src/core/tag-webhook.ts';
import { findCanonicalWebhook, tagTarget } from '../../src/core/tags.ts';
import { CA, NEW, OLD, injectorWebhook, tagWebhook } from '../support/fixtures.ts';

const canonical = injectorWebhook(NEW.revision);

function buildTagWebhook(input: Omit<TagWebhookInput, 'autoInject'> & { autoInject?: boolean }): TagWebhook {
  const result = buildResult({ autoInject: false, ...input });
  if (!result.ok) throw new Error(result.reason);
  return result.webhook;
}

describe('tag webhook builder', () => {
  const cases = [
    { tag: 'default', names: ['rev.namespace.sidecar-injector.istio.io', 'rev.object.sidecar-injector.istio.io', 'namespace.sidecar-injector.istio.io', 'object.sidecar-injector.istio.io'], validator: true },
    { tag: 'canary', names: ['rev.namespace.sidecar-injector.istio.io', 'rev.object.sidecar-injector.istio.io'], validator: false },
  ];
  for (const c of cases) {
    it(`tag "${c.tag}": ${c.names.length} webhooks${c.validator ? ' and the default validator' : ''}`, () => {
      const built = buildTagWebhook({ tag: c.tag, revision: NEW.revision, istioNamespace: 'istio-system', canonical, existingValidator: undefined });
      const m = built.mutating;
      assert.equal(m.metadata.name, `istio-revision-tag-${c.tag}`);
      assert.equal(m.metadata.labels['istio.io/tag'], c.tag);
      assert.equal(m.metadata.labels['istio.io/rev'], NEW.revision);
      assert.equal(m.metadata.labels.app, 'sidecar-injector', 'the canonical "app" label is not copied over the chart one');
      // Like `istioctl tag set` (UserManaged): no istioctl owner label, so neither install nor uninstall prunes it.
      assert.deepEqual(Object.keys(m.metadata.labels).filter((k) => k.includes('operator.istio.io')), []);
      assert.deepEqual(Object.keys(built.service.metadata.labels).filter((k) => k.includes('operator.istio.io')), []);
      assert.deepEqual(m.webhooks.map((w) => w.name), c.names);
      for (const w of m.webhooks) {
        assert.deepEqual(w.clientConfig, { service: { name: `istiod-${NEW.revision}`, namespace: 'istio-system', path: '/inject', port: 443 }, caBundle: CA });
        assert.equal(w.failurePolicy, 'Fail');
        assert.equal(w.sideEffects, 'None');
        assert.equal(w.reinvocationPolicy, 'Never');
        assert.deepEqual(w.rules, [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }]);
        assert.deepEqual(w.admissionReviewVersions, ['v1']);
      }
      assert.deepEqual(m.webhooks[0]?.namespaceSelector, {
        matchExpressions: [
          { key: 'istio.io/rev', operator: 'In', values: [c.tag] },
          { key: 'istio-injection', operator: 'DoesNotExist' },
        ],
      });
      assert.deepEqual(m.webhooks[1]?.objectSelector, {
        matchExpressions: [
          { key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] },
          { key: 'istio.io/rev', operator: 'In', values: [c.tag] },
        ],
      });
      assert.equal(built.validating !== undefined, c.validator);
      assert.equal(built.service.metadata.name, `istiod-revision-tag-${c.tag}`);
      assert.deepEqual(built.service.spec.selector, { app: 'istiod', 'istio.io/rev': NEW.revision });
    });
  }

  it('the default tag also serves istio-injection=enabled and sidecar.istio.io/inject=true', () => {
    const m = buildTagWebhook({ tag: 'default', revision: NEW.revision, istioNamespace: 'istio-system', canonical, existingValidator: undefined }).mutating;
    assert.deepEqual(m.webhooks[2]?.namespaceSelector, { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] });
    assert.deepEqual(m.webhooks[3]?.objectSelector, {
      matchExpressions: [
        { key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] },
        { key: 'istio.io/rev', operator: 'DoesNotExist' },
      ],
    });
  });

  it('the default validator points at the new istiod and keeps the live failurePolicy', () => {
    const existing = { name: 'istiod-default-validator', labels: {}, annotations: {}, webhooks: [{ name: 'validation.istio.io', clientConfig: {}, failurePolicy: 'Fail' }] };
    const v = buildTagWebhook({ tag: 'default', revision: NEW.revision, istioNamespace: 'istio-system', canonical, existingValidator: existing }).validating;
    assert.equal(v?.metadata.name, 'istiod-default-validator');
    assert.deepEqual(v.webhooks[0]?.clientConfig, { service: { name: `istiod-${NEW.revision}`, namespace: 'istio-system', path: '/validate' }, caBundle: CA });
    assert.equal(v.webhooks[0].failurePolicy, 'Fail');
    const fresh = buildTagWebhook({ tag: 'default', revision: NEW.revision, istioNamespace: 'istio-system', canonical, existingValidator: undefined }).validating;
    assert.equal(fresh?.webhooks[0]?.failurePolicy, 'Ignore');
  });

  it('uses an injection URL instead of a service when the revision has one (remote istiod)', () => {
    const remote = { ...canonical, webhooks: canonical.webhooks.map((w) => ({ ...w, clientConfig: { url: 'https://istiod.example:15017/inject/cluster/c1/net/n1', caBundle: CA } })) };
    const built = buildTagWebhook({ tag: 'default', revision: NEW.revision, istioNamespace: 'istio-system', canonical: remote, existingValidator: undefined });
    assert.equal(built.mutating.webhooks[0]?.clientConfig.url, 'https://istiod.example:15017/inject/cluster/c1/net/n1');
    assert.equal(built.mutating.webhooks[0].clientConfig.service, undefined);
    assert.equal(built.validating?.webhooks[0]?.clientConfig.url, 'https://istiod.example:15017/validate');
  });

  it('names the webhook after a non-default istio namespace', () => {
    assert.equal(tagWebhookName('default', 'istio-system'), 'istio-revision-tag-default');
    assert.equal(tagWebhookName('default', 'mesh-a'), 'istio-revision-tag-default-mesh-a');
  });

  it('refuses (as a result, not a throw) a canonical webhook without an injector entry or of another revision', () => {
    const empty = buildResult({ tag: 'default', revision: NEW.revision, istioNamespace: 'istio-system', canonical: { ...canonical, webhooks: [] }, existingValidator: undefined, autoInject: false });
    assert.equal(empty.ok, false);
    assert.match(empty.ok ? '' : empty.reason, /no sidecar-injector entry/);
    const other = buildResult({ tag: 'default', revision: OLD.revision, istioNamespace: 'istio-system', canonical, existingValidator: undefined, autoInject: false });
    assert.match(other.ok ? '' : other.reason, /belongs to revision/);
  });

  it('keeps the auto-inject entry when the tag has it today, pointing at the new revision', () => {
    const m = buildTagWebhook({ tag: 'default', revision: NEW.revision, istioNamespace: 'istio-system', canonical, existingValidator: undefined, autoInject: true }).mutating;
    const auto = m.webhooks.find((w) => w.name === 'auto.sidecar-injector.istio.io');
    assert.equal(auto?.clientConfig.service?.name, `istiod-${NEW.revision}`);
    assert.deepEqual(auto.objectSelector.matchExpressions?.map((e) => `${e.key} ${e.operator}`), ['sidecar.istio.io/inject DoesNotExist', 'istio.io/rev DoesNotExist']);
  });

  it("takes the Service from the revision's own injector (e.g. istiod-remote), not from its name", () => {
    const remote = { ...canonical, webhooks: canonical.webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, service: { name: 'istiod-remote', namespace: 'istio-system', path: '/inject', port: 443 } } })) };
    const built = buildTagWebhook({ tag: 'default', revision: NEW.revision, istioNamespace: 'istio-system', canonical: remote, existingValidator: undefined });
    assert.ok(built.mutating.webhooks.every((w) => w.clientConfig.service?.name === 'istiod-remote'));
    assert.equal(built.validating?.webhooks[0]?.clientConfig.service?.name, 'istiod-remote');
  });

  it('the default validator carries istio.io/tag=default and skips revision-labelled objects, as the chart does', () => {
    const v = buildTagWebhook({ tag: 'default', revision: NEW.revision, istioNamespace: 'istio-system', canonical, existingValidator: undefined }).validating;
    assert.equal(v?.metadata.labels['istio.io/tag'], 'default');
    assert.equal(v.metadata.labels['istio.io/rev'], NEW.revision);
    assert.deepEqual(v.webhooks[0]?.objectSelector, { matchExpressions: [{ key: 'istio.io/rev', operator: 'DoesNotExist' }] });
  });

  it('a tag on the non-revisioned control plane calls Service istiod and is labelled revision "default"', () => {
    const built = buildTagWebhook({ tag: 'default', revision: 'default', istioNamespace: 'istio-system', canonical: injectorWebhook('default'), existingValidator: undefined });
    assert.equal(built.mutating.metadata.labels['istio.io/rev'], 'default');
    assert.ok(built.mutating.webhooks.every((w) => w.clientConfig.service?.name === 'istiod'));
    assert.deepEqual(built.service.spec.selector, { app: 'istiod', istio: 'pilot' });
  });

  it('finds the canonical webhook: labelled with the revision, not a tag, and unique', () => {
    const all = [injectorWebhook(OLD.revision), injectorWebhook(NEW.revision), tagWebhook('default', NEW.revision)];
    assert.equal(findCanonicalWebhook(all, NEW.revision)?.name, `istio-sidecar-injector-${NEW.revision}`);
    assert.equal(findCanonicalWebhook(all, 'nope'), undefined);
    assert.equal(findCanonicalWebhook([...all, { ...injectorWebhook(NEW.revision), name: 'dup' }], NEW.revision), undefined);
  });

  it('reads where a tag points and whether every entry agrees', () => {
    const all = [injectorWebhook(OLD.revision), injectorWebhook(NEW.revision)];
    assert.deepEqual(tagTarget(tagWebhook('default', OLD.revision), all), { revision: OLD.revision, consistent: true });
    const half = tagWebhook('default', NEW.revision);
    const mixed = { ...half, webhooks: [...half.webhooks, ...tagWebhook('default', OLD.revision).webhooks] };
    assert.deepEqual(tagTarget(mixed, all), { revision: NEW.revision, consistent: false });
  });
});
