// A tag move is done only when every object of the tag sends to the new revision. The default validator is
// written last: a move cut short after the injector webhook (the validator write answered 500 before it was
// applied) is written again, not taken as done, so the old revision's istiod is not left validating.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTagWebhook } from '../../src/core/tag-webhook.ts';
import { E2E_SPEC, NEW, OLD, injectorWebhook, makeUpgrade, sampleMesh } from '../support/fixtures.ts';
import { FakeMesh, walk } from '../support/fake-mesh.ts';

function meshWithValidatorOn(revision: string, validatorWritesLost: number): FakeMesh {
  const built = buildTagWebhook({ tag: 'default', revision, istioNamespace: 'istio-system', canonical: injectorWebhook(revision), existingValidator: undefined, autoInject: false });
  if (!built.ok || built.webhook.validating === undefined) throw new Error('no validator built');
  const validator = { name: built.webhook.validating.metadata.name, labels: built.webhook.validating.metadata.labels, annotations: {}, webhooks: [] };
  return new FakeMesh(sampleMesh({ validatingWebhooks: [validator] }), { validatorWritesLost });
}

describe('tag moves', () => {
  for (const lost of [0, 1, 2]) {
    it(`the validator write lost ${lost} time(s): the tag is written again until the validator moved too, and the upgrade finishes`, () => {
      const mesh = meshWithValidatorOn(OLD.revision, lost);
      const validatorWhenGatewaysStarted: string[] = [];
      const result = walk(makeUpgrade(E2E_SPEC), mesh, {
        afterPlan: (planned) => {
          if (planned.status.phase === 'UpgradingGateways' && validatorWhenGatewaysStarted.length === 0) {
            validatorWhenGatewaysStarted.push(mesh.observed.validatingWebhooks.find((v) => v.name === 'istiod-default-validator')?.labels['istio.io/rev'] ?? 'none');
          }
        },
      });
      assert.equal(result.upgrade.status.phase, 'Succeeded', JSON.stringify(result.upgrade.status.failure));
      assert.deepEqual(mesh.tagWrites, Array.from({ length: lost + 1 }, () => `default->${NEW.revision}`), 'one write, plus one per lost validator write');
      assert.deepEqual(validatorWhenGatewaysStarted, [NEW.revision], 'the gateways move only once the validator moved');
    });
  }
});
