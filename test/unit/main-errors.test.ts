// A kubeconfig the operator cannot use ends the process with the message alone (what is wrong, what to do),
// exit code 1, and no stack trace to bury it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

describe('startup errors', () => {
  const cases = [
    { name: 'a kubeconfig that does not exist', args: ['--kubeconfig', '/nonexistent/kubeconfig'], env: {}, message: /cannot read the kubeconfig \/nonexistent\/kubeconfig: .*pass --kubeconfig/ },
    { name: 'no kubeconfig outside a pod', args: [], env: { KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' }, message: /this is not a pod .*pass --kubeconfig PATH/ },
  ];
  for (const c of cases) {
    it(`${c.name}: the message, exit 1, no stack`, () => {
      const result = spawnSync(process.execPath, [MAIN, ...c.args], { env: { ...process.env, ...c.env }, encoding: 'utf8', timeout: 30_000 });
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, c.message);
      assert.doesNotMatch(result.stderr, /^\s+at /m);
    });
  }
});
