import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createChartRepoServer } from '../../../hack/cluster/chart-repo.ts';

// The server of the cluster's Helm chart repository, here on loopback with a stand-in repository directory.
describe('chart repository server', () => {
  let dir: string;
  let base: string;
  let srv: ReturnType<typeof createChartRepoServer>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iuo-chart-repo-'));
    writeFileSync(join(dir, 'index.yaml'), 'apiVersion: v1\nentries: {}\n');
    writeFileSync(join(dir, 'gateway-1.31.0.tgz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    writeFileSync(join(dir, '.iuo-stamp'), 'fingerprint\n');
    srv = createChartRepoServer(dir);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => srv.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.yaml and the chart archives with their types', async () => {
    const index = await fetch(`${base}/index.yaml`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'application/yaml');
    assert.equal(await index.text(), 'apiVersion: v1\nentries: {}\n');
    const tgz = await fetch(`${base}/gateway-1.31.0.tgz`);
    assert.equal(tgz.headers.get('content-type'), 'application/gzip');
    assert.deepEqual([...new Uint8Array(await tgz.arrayBuffer())], [0x1f, 0x8b, 0x08, 0x00]);
    const head = await fetch(`${base}/index.yaml`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '27');
  });

  it('serves a file replaced on disk at once (a rebuilt repository)', async () => {
    writeFileSync(join(dir, 'index.yaml'), 'apiVersion: v1\nentries: {new: []}\n');
    assert.equal(await (await fetch(`${base}/index.yaml`)).text(), 'apiVersion: v1\nentries: {new: []}\n');
  });

  it('answers /healthz, and 404 for missing files, dot files and anything outside the directory; 405 for writes', async () => {
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'ok\n');
    for (const path of ['/istiod-9.9.9.tgz', '/.iuo-stamp', '/..%2F..%2Fetc%2Fpasswd', '/sub/index.yaml', '/']) {
      assert.equal((await fetch(`${base}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(`${base}/index.yaml`, { method: 'PUT', body: 'x' })).status, 405);
  });
});
