// Issue 9 item 7: the tag objects the operator writes are the ones `istioctl tag generate <tag> --revision <new>`
// renders, for both pinned istioctl versions (a semantic diff of both as the API server stores them, which must
// be empty except for the differences explained below); and a tag that another writer keeps reverting after the
// switch ends with TagReverted instead of being re-applied forever.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { V1MutatingWebhookConfiguration, V1Service, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { DEFAULT_ISTIO_NAMESPACE as ISTIO_NAMESPACE } from '../../src/api/constants.ts';
import { MAX_TAG_REVERTS } from '../../src/core/tag-guard.ts';
import { buildTagWebhook, DEFAULT_VALIDATOR_NAME, type TagWebhook } from '../../src/core/tag-webhook.ts';
import { toWebhookConfiguration } from '../../src/kube/to-observed.ts';
import { istioctl, sleep, type Kube } from '../../hack/e2e/kube.ts';
import { installRevision, setTag } from '../../hack/e2e/mesh.ts';
import type { OperatorProcess } from '../../hack/e2e/operator.ts';
import { freshScenario, sampleSpec } from '../../hack/e2e/scenario.ts';
import { createUpgrade, waitForPhase } from '../../hack/e2e/upgrades.ts';

type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, unknown>;

/**
 * Labels `istioctl tag generate` adds that the operator does not write, and why that is right:
 * - app.kubernetes.io/instance, app.kubernetes.io/managed-by, app.kubernetes.io/version, helm.sh/chart, release:
 *   the chart's istio.labels as istioctl's own Helm render sets them ("istio", "Helm", the istioctl version). The
 *   operator copies the revision's own webhook labels instead, which carry the same keys from the install of
 *   that revision; a key the canonical webhook lacks is cosmetic (no selector, prune or uninstall uses it).
 */
const EXPLAINED_LABELS = new Set(['app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version', 'helm.sh/chart', 'release']);

function semanticDiff(path: string, ours: unknown, theirs: unknown, out: string[]): void {
  if (isDeepStrictEqual(ours, theirs)) return;
  if (typeof ours === 'object' && ours !== null && typeof theirs === 'object' && theirs !== null && !Array.isArray(ours) && !Array.isArray(theirs)) {
    const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
    for (const key of keys) semanticDiff(`${path}.${key}`, (ours as Record<string, unknown>)[key], (theirs as Record<string, unknown>)[key], out);
    return;
  }
  if (Array.isArray(ours) && Array.isArray(theirs) && ours.length === theirs.length) {
    ours.forEach((item, i) => {
      semanticDiff(`${path}[${i}]`, item, theirs[i], out);
    });
    return;
  }
  out.push(`${path}: ours ${JSON.stringify(ours)} istioctl ${JSON.stringify(theirs)}`);
}

/**
 * What the API server makes of an object: created with dryRun=All under a scratch name, so defaults are applied
 * the same way to both sides (e.g. failurePolicy Fail, targetPort = port) and nothing is stored.
 */
async function asStored(kube: Kube, kind: string, object: object, side: string): Promise<unknown> {
  const body = JSON.parse(JSON.stringify(object)) as Doc;
  body.metadata = { ...body.metadata, name: `iuo-dry-run-${side}` };
  const created: unknown =
    kind === 'MutatingWebhookConfiguration'
      ? await kube.admission.createMutatingWebhookConfiguration({ body: body as V1MutatingWebhookConfiguration, dryRun: 'All' })
      : kind === 'ValidatingWebhookConfiguration'
        ? await kube.admission.createValidatingWebhookConfiguration({ body: body as V1ValidatingWebhookConfiguration, dryRun: 'All' })
        : await kube.core.createNamespacedService({ namespace: ISTIO_NAMESPACE, body: body as V1Service, dryRun: 'All' });
  // Identity and server bookkeeping differ by construction; the caBundle is istiod's to patch (compared as present).
  const dropped = new Set(['name', 'uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation', 'clusterIP', 'clusterIPs', 'status']);
  return JSON.parse(JSON.stringify(created, (key, value: unknown) => (dropped.has(key) ? undefined : key === 'caBundle' ? '<ca>' : value))) as unknown;
}

/** The diff of both sides as the API server stores them, minus the explained differences. */
async function compare(kube: Kube, ours: TagWebhook, generated: Doc[]): Promise<{ unexplained: string[]; explained: string[] }> {
  const all: string[] = [];
  const pairs: [string, object | undefined, Doc | undefined][] = [
    ['MutatingWebhookConfiguration', ours.mutating, generated.find((d) => d.kind === 'MutatingWebhookConfiguration')],
    ['ValidatingWebhookConfiguration', ours.validating, generated.find((d) => d.kind === 'ValidatingWebhookConfiguration')],
    ['Service', ours.service, generated.find((d) => d.kind === 'Service')],
  ];
  for (const [kind, mine, theirs] of pairs) {
    if (mine === undefined || theirs === undefined) {
      if (mine !== theirs) all.push(`${kind}: ours ${mine === undefined ? 'absent' : 'present'}, istioctl ${theirs === undefined ? 'absent' : 'present'}`);
      continue;
    }
    semanticDiff(kind, await asStored(kube, kind, mine, 'ours'), await asStored(kube, kind, theirs, 'istioctl'), all);
  }
  const explained = all.filter((d) => [...EXPLAINED_LABELS].some((label) => d.includes(`.metadata.labels.${label}:`)));
  return { explained, unexplained: all.filter((d) => !explained.includes(d)) };
}

describe('end to end: tag objects as istioctl renders them; a tag that does not stay', { timeout: 15 * 60_000 }, () => {
  let kube: Kube;
  let operator: OperatorProcess;

  before(async () => {
    ({ kube, operator } = await freshScenario('e2e-tag-objects'));
    await installRevision(kube, kube.info.versions.istioNew, kube.info.versions.istioNewRevision);
  });

  after(async () => {
    assert.equal(await operator.stop(), 0);
  });

  for (const tag of ['default', 'prod']) {
    it(`tag "${tag}": the operator's objects equal \`istioctl tag generate ${tag} --revision <new>\` of both istioctl versions`, async () => {
      const { istioOld, istioNew, istioNewRevision } = kube.info.versions;
      const canonical = toWebhookConfiguration(await kube.admission.readMutatingWebhookConfiguration({ name: `istio-sidecar-injector-${istioNewRevision}` }));
      const validator = (await kube.admission.listValidatingWebhookConfiguration()).items.find((v) => v.metadata?.name === DEFAULT_VALIDATOR_NAME);
      const built = buildTagWebhook({ tag, revision: istioNewRevision, istioNamespace: ISTIO_NAMESPACE, canonical, existingValidator: validator === undefined ? undefined : toWebhookConfiguration(validator), autoInject: false });
      assert.ok(built.ok);
      for (const version of [istioOld, istioNew]) {
        const output = await istioctl(kube, version, ['tag', 'generate', tag, '--revision', istioNewRevision, '--overwrite']);
        const generated = yaml.loadAll(output).filter((d): d is Doc => typeof d === 'object' && d !== null && 'kind' in d);
        assert.deepEqual(generated.map((d) => d.kind).sort(), [...(tag === 'default' ? ['ValidatingWebhookConfiguration'] : []), 'MutatingWebhookConfiguration', 'Service'].sort());
        const { unexplained, explained } = await compare(kube, built.webhook, generated);
        console.log(`tag ${tag}, istioctl ${version}: ${unexplained.length} unexplained difference(s); explained: ${explained.join('; ') || 'none'}`);
        assert.deepEqual(unexplained, [], `istioctl ${version}`);
      }
    });
  }

  it('a tag that another writer keeps reverting after the switch ends with TagReverted and rolls back', async () => {
    const { istioOld, istioOldRevision } = kube.info.versions;
    operator.start();
    await createUpgrade(kube, 'tag-fight', sampleSpec(kube, { rollout: { waves: [{ name: 'all' }] }, soak: { duration: '30s' } }));
    // Another writer (say, a GitOps tool without ignoreDifferences) puts the tag back every second once it moved.
    await waitForPhase(kube, 'tag-fight', ['UpgradingGateways', 'Soaking', 'RollingOut', 'RolledBack', 'Failed', 'Succeeded'], 5 * 60_000);
    let fighting = true;
    const fight = (async () => {
      while (fighting) {
        await setTag(kube, istioOld, istioOldRevision).catch(() => undefined);
        await sleep(1000);
      }
    })();
    try {
      const ended = await waitForPhase(kube, 'tag-fight', ['RolledBack', 'Failed', 'Succeeded'], 5 * 60_000);
      assert.equal(ended.status?.failure?.reason, 'TagReverted', JSON.stringify(ended.status?.failure));
      assert.match(ended.status.failure.message, /no longer points at revision .* changed back 4 times after the switch/);
      assert.equal(ended.status.tagReverts, MAX_TAG_REVERTS);
      assert.equal(ended.status.phase, 'RolledBack');
    } finally {
      fighting = false;
      await fight;
    }
  });
});
