// The status write against the real API server (status subresource, CRD schema): the first write replaces the
// whole status; later writes send only the changed fields and the stored status ends exactly as planned; a
// field patch that does not apply to the stored status (the status it was based on is not the stored one) is
// refused by the server and replaced by a whole-status write (issue 14: send only what changed).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IstioUpgradeStatus } from '../../src/api/schema.ts';
import { makeClients } from '../../src/kube/clients.ts';
import { loadConnection } from '../../src/kube/rest/kube-connection.ts';
import { writeStatus } from '../../src/kube/status-writer.ts';
import { connect, type Kube } from '../../hack/e2e/kube.ts';
import { installOperatorManifests } from '../../hack/e2e/operator.ts';
import { sampleSpec } from '../../hack/e2e/scenario.ts';
import { createUpgrade, deleteUpgrade, getUpgrade } from '../../hack/e2e/upgrades.ts';

const NAME = 'status-field-patch';

describe('status write: changed fields only', () => {
  let kube: Kube;

  before(async () => {
    kube = await connect();
    await installOperatorManifests(kube);
    await deleteUpgrade(kube, NAME);
    await createUpgrade(kube, NAME, sampleSpec(kube));
  });

  after(async () => {
    await deleteUpgrade(kube, NAME);
  });

  it('writes whole, then field by field, and falls back to whole when the stored status differs', async () => {
    // The operator's client, with the patches it sends recorded.
    const sent: unknown[] = [];
    const own = makeClients(loadConnection(kube.info.kubeconfigPath)).custom;
    const custom: Parameters<typeof writeStatus>[0] = {
      patchClusterCustomObjectStatus: (param, options) => {
        sent.push(param.body);
        return own.patchClusterCustomObjectStatus(param, options);
      },
      getClusterCustomObject: (param) => own.getClusterCustomObject(param),
    };
    const canary = { name: 'canary', state: 'InProgress' as const, namespaces: ['bar'], startedAt: '2026-12-01T00:00:00Z' };
    const waves = [canary];
    const first: IstioUpgradeStatus = { phase: 'RollingOut', currentWave: 'canary', waves, upgraded: '0/3' };
    const rv1 = await writeStatus(custom, NAME, {}, first);
    assert.ok(rv1 !== undefined && rv1 !== '');
    assert.deepEqual((await getUpgrade(kube, NAME)).status, first);
    assert.deepEqual(sent.splice(0), [[{ op: 'add', path: '/status', value: first }]]);

    const second: IstioUpgradeStatus = { phase: 'RollingOut', waves, upgraded: '2/3' };
    const rv2 = await writeStatus(custom, NAME, first, second);
    assert.ok(rv2 !== undefined && rv2 !== rv1);
    assert.deepEqual((await getUpgrade(kube, NAME)).status, second, 'currentWave removed, upgraded replaced, the rest kept');
    assert.deepEqual(sent.splice(0), [[{ op: 'remove', path: '/status/currentWave' }, { op: 'add', path: '/status/upgraded', value: '2/3' }]]);

    // Based on a status that is not the stored one: currentWave is to be removed but is not there.
    const third: IstioUpgradeStatus = { phase: 'Soaking', waves: [{ ...canary, state: 'Soaking' }], upgraded: '3/3' };
    const rv3 = await writeStatus(custom, NAME, first, third);
    assert.ok(rv3 !== undefined && rv3 !== rv2);
    assert.deepEqual((await getUpgrade(kube, NAME)).status, third);
    const [fieldPatch, whole] = sent.splice(0);
    assert.ok(Array.isArray(fieldPatch) && fieldPatch.some((op: { op: string; path: string }) => op.op === 'remove' && op.path === '/status/currentWave'), 'the field patch was tried first');
    assert.deepEqual(whole, [{ op: 'add', path: '/status', value: third }], 'the server refused it, and the whole status was written');
  });
});
