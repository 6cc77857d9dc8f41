// Reaching and authenticating to the API server without @kubernetes/client-node: kubeconfig clusters and users
// (tokens, token files, client certificates, basic auth, exec plugins), the in-cluster ServiceAccount, and the
// kubeconfig features that are refused with an error rather than ignored.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  connectionFromKubeconfig,
  EXEC_REFRESH_BEFORE_EXPIRY_MS,
  KubeConfigError,
  loadConnection,
  loadInCluster,
  TOKEN_FILE_REREAD_MS,
} from '../../../src/kube/rest/kube-connection.ts';

const T0 = Date.parse('2030-01-01T00:00:00Z');

/** A clock the test moves by hand. */
function manualClock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A kubeconfig with one context "ctx" on cluster "c" (https://127.0.0.1:6443 unless overridden) and user "u" when given. */
function kubeconfig(cluster: Record<string, unknown> = {}, user?: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'ctx',
    contexts: [{ name: 'ctx', context: { cluster: 'c', ...(user === undefined ? {} : { user: 'u' }) } }],
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', ...cluster } }],
    users: user === undefined ? [] : [{ name: 'u', user }],
  };
}

function assertConfigError(error: unknown, pattern: RegExp): true {
  assert.ok(error instanceof KubeConfigError, `expected a KubeConfigError, got ${String(error)}`);
  assert.equal(error.name, 'KubeConfigError');
  assert.match(error.message, pattern);
  return true;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'kube-connection-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh directory under the test's temp dir. */
let dirs = 0;
function freshDir(): string {
  const dir = join(root, `d${String(++dirs)}`);
  mkdirSync(dir);
  return dir;
}

describe('kubeconfig: server, TLS and static credentials', () => {
  const cases: readonly {
    name: string;
    cluster?: Record<string, unknown>;
    user?: Record<string, unknown>;
    server?: string;
    tls?: Record<string, unknown>;
    /** Present: the expected header (undefined for none); absent: not checked. */
    authorization?: string | undefined;
  }[] = [
    { name: 'a token is a bearer header', user: { token: 'abc' }, authorization: 'Bearer abc' },
    { name: 'username/password is basic auth', user: { username: 'admin', password: 's3cret' }, authorization: 'Basic YWRtaW46czNjcmV0' },
    { name: 'a context without a user is anonymous', authorization: undefined },
    { name: 'a user without credentials is anonymous', user: {}, authorization: undefined },
    { name: 'a trailing slash is stripped', cluster: { server: 'https://127.0.0.1:6443/' }, server: 'https://127.0.0.1:6443' },
    { name: 'a path prefix is kept, without its trailing slash', cluster: { server: 'https://api.example:8443/k8s/clusters/c-1/' }, server: 'https://api.example:8443/k8s/clusters/c-1' },
    { name: 'a bare host:port is https', cluster: { server: '10.0.0.1:6443' }, server: 'https://10.0.0.1:6443' },
    { name: 'an IPv6 server', cluster: { server: 'https://[::1]:6443/' }, server: 'https://[::1]:6443' },
    { name: 'plain http is kept', cluster: { server: 'http://127.0.0.1:8080' }, server: 'http://127.0.0.1:8080' },
    {
      name: 'CA data and tls-server-name',
      cluster: { 'certificate-authority-data': b64('CA-PEM'), 'tls-server-name': 'kubernetes.default' },
      tls: { ca: Buffer.from('CA-PEM'), rejectUnauthorized: true, servername: 'kubernetes.default' },
    },
    { name: 'insecure-skip-tls-verify', cluster: { 'insecure-skip-tls-verify': true }, tls: { rejectUnauthorized: false } },
    { name: 'verification is on by default', tls: { rejectUnauthorized: true } },
    {
      name: 'client certificate and key data',
      user: { 'client-certificate-data': b64('CERT-PEM'), 'client-key-data': b64('KEY-PEM') },
      tls: { cert: Buffer.from('CERT-PEM'), key: Buffer.from('KEY-PEM'), rejectUnauthorized: true },
      authorization: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const connection = connectionFromKubeconfig(kubeconfig(c.cluster, c.user), '/nonexistent', {});
      assert.equal(connection.server, c.server ?? 'https://127.0.0.1:6443');
      if (c.tls !== undefined) assert.deepEqual({ ...connection.tls }, c.tls);
      if ('authorization' in c) assert.equal(await connection.authorization(), c.authorization);
    });
  }

  it('certificate, key and CA files resolve against the kubeconfig directory', () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'CA FILE');
    writeFileSync(join(dir, 'pki', 'client.crt'), 'CERT FILE');
    writeFileSync(join(dir, 'client.key'), 'KEY FILE');
    const connection = connectionFromKubeconfig(
      kubeconfig({ 'certificate-authority': 'pki/ca.crt' }, { 'client-certificate': './pki/client.crt', 'client-key': join(dir, 'client.key') }),
      dir,
      {},
    );
    assert.deepEqual({ ...connection.tls }, { ca: Buffer.from('CA FILE'), cert: Buffer.from('CERT FILE'), key: Buffer.from('KEY FILE'), rejectUnauthorized: true });
  });

  it('a missing certificate file names the file', () => {
    const dir = freshDir();
    assert.throws(() => connectionFromKubeconfig(kubeconfig({ 'certificate-authority': 'missing-ca.crt' }), dir, {}), (e) => assertConfigError(e, new RegExp(`${join(dir, 'missing-ca.crt')}.*ENOENT`)));
  });
});

describe('kubeconfig: token files', () => {
  it('are read relative to the kubeconfig and re-read at most once a minute', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'token'), 'first\n');
    const clock = manualClock();
    const connection = connectionFromKubeconfig(kubeconfig({}, { tokenFile: 'token' }), dir, {}, clock.now);
    assert.equal(await connection.authorization(), 'Bearer first', 'trailing whitespace is trimmed');

    writeFileSync(join(dir, 'token'), 'second');
    clock.advance(TOKEN_FILE_REREAD_MS - 1);
    assert.equal(await connection.authorization(), 'Bearer first', 'not re-read within the minute');
    clock.advance(1);
    assert.equal(await connection.authorization(), 'Bearer second', 're-read after the minute');

    // A failed re-read keeps the last token rather than failing requests.
    rmSync(join(dir, 'token'));
    clock.advance(TOKEN_FILE_REREAD_MS);
    assert.equal(await connection.authorization(), 'Bearer second');
    writeFileSync(join(dir, 'token'), 'third');
    assert.equal(await connection.authorization(), 'Bearer third', 'tried again on the next use after a failed read');
  });

  it('a missing token file is an error at load', () => {
    const dir = freshDir();
    assert.throws(() => connectionFromKubeconfig(kubeconfig({}, { tokenFile: 'nope' }), dir, {}), (e) => assertConfigError(e, /tokenFile.*nope.*ENOENT/));
  });
});

describe('kubeconfig: exec credential plugins', () => {
  // Counts its runs, records what it was given, and prints a token that names the run and its first argument.
  const PLUGIN = `#!/bin/sh
dir="$(dirname "$0")"
n=$(cat "$dir/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$dir/count"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/exec-info"
printf '%s|%s' "$PLUGIN_GREETING" "$INHERITED" > "$dir/env-seen"
printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"tok-%s-%s"%s}}' "$ANSWER_VERSION" "$n" "$1" "$EXPIRY_JSON"
`;

  function pluginDir(script = PLUGIN): string {
    const dir = freshDir();
    writeFileSync(join(dir, 'plugin.sh'), script, { mode: 0o755 });
    return dir;
  }
  const runs = (dir: string) => Number(readFileSync(join(dir, 'count'), 'utf8').trim());

  function execUser(apiVersion: string, expiry: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      exec: {
        apiVersion,
        command: './plugin.sh',
        args: ['arg1'],
        env: [
          { name: 'PLUGIN_GREETING', value: 'hello' },
          { name: 'ANSWER_VERSION', value: apiVersion },
          { name: 'EXPIRY_JSON', value: expiry === undefined ? '' : `,"expirationTimestamp":"${expiry}"` },
        ],
        interactiveMode: 'Never',
        ...extra,
      },
    };
  }

  for (const apiVersion of ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']) {
    it(`${apiVersion}: runs the plugin, caches its token until shortly before it expires`, async () => {
      const dir = pluginDir();
      const clock = manualClock();
      const expiresAt = T0 + 3_600_000;
      const connection = connectionFromKubeconfig(kubeconfig({}, execUser(apiVersion, new Date(expiresAt).toISOString())), dir, { PATH: process.env.PATH, INHERITED: 'from-parent' }, clock.now);

      const concurrent = await Promise.all([connection.authorization(), connection.authorization(), connection.authorization()]);
      assert.deepEqual(concurrent, ['Bearer tok-1-arg1', 'Bearer tok-1-arg1', 'Bearer tok-1-arg1']);
      assert.equal(runs(dir), 1, 'concurrent requests share one run');

      const info: unknown = JSON.parse(readFileSync(join(dir, 'exec-info'), 'utf8'));
      assert.deepEqual(info, { kind: 'ExecCredential', apiVersion, spec: { interactive: false } });
      assert.equal(readFileSync(join(dir, 'env-seen'), 'utf8'), 'hello|from-parent', 'exec env entries are added to the process env');

      clock.advance(expiresAt - T0 - EXEC_REFRESH_BEFORE_EXPIRY_MS - 1);
      assert.equal(await connection.authorization(), 'Bearer tok-1-arg1', 'cached until shortly before expiry');
      assert.equal(runs(dir), 1);
      clock.advance(1);
      assert.equal(await connection.authorization(), 'Bearer tok-2-arg1', 'refreshed shortly before expiry');
      assert.equal(runs(dir), 2);
    });
  }

  it('a credential without expiry is cached for good', async () => {
    const dir = pluginDir();
    const clock = manualClock();
    const connection = connectionFromKubeconfig(kubeconfig({}, execUser('client.authentication.k8s.io/v1', undefined)), dir, { PATH: process.env.PATH }, clock.now);
    assert.equal(await connection.authorization(), 'Bearer tok-1-arg1');
    clock.advance(365 * 24 * 3_600_000);
    assert.equal(await connection.authorization(), 'Bearer tok-1-arg1');
    assert.equal(runs(dir), 1);
  });

  it('a 401 to its token runs the plugin again before expiry; a 401 to an older token keeps the current one', async () => {
    const dir = pluginDir();
    const connection = connectionFromKubeconfig(kubeconfig({}, execUser('client.authentication.k8s.io/v1', undefined)), dir, { PATH: process.env.PATH }, manualClock().now);
    assert.equal(await connection.authorization(), 'Bearer tok-1-arg1');
    assert.equal(connection.unauthorized?.('Bearer tok-1-arg1'), true, 'a new attempt carries a new credential');
    assert.equal(await connection.authorization(), 'Bearer tok-2-arg1', 'revoked before its expiry: renewed');
    assert.equal(runs(dir), 2);
    assert.equal(connection.unauthorized?.('Bearer tok-1-arg1'), true);
    assert.equal(await connection.authorization(), 'Bearer tok-2-arg1', 'a late 401 to the old token does not drop the new one');
    assert.equal(runs(dir), 2);
  });

  it('a 401 to a fixed token changes nothing: a new attempt would send the same', async () => {
    const connection = connectionFromKubeconfig(kubeconfig({}, { token: 'abc' }), '/');
    assert.equal(connection.unauthorized?.('Bearer abc'), false);
    assert.equal(await connection.authorization(), 'Bearer abc');
  });

  it('provideClusterInfo passes the cluster in KUBERNETES_EXEC_INFO', async () => {
    const dir = pluginDir();
    const cluster = {
      server: 'https://10.1.2.3:6443/',
      'certificate-authority-data': b64('CA-PEM'),
      extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'api' } }],
    };
    const connection = connectionFromKubeconfig(kubeconfig(cluster, execUser('client.authentication.k8s.io/v1', undefined, { provideClusterInfo: true })), dir, { PATH: process.env.PATH });
    await connection.authorization();
    const info: unknown = JSON.parse(readFileSync(join(dir, 'exec-info'), 'utf8'));
    assert.deepEqual(info, {
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1',
      spec: { interactive: false, cluster: { server: 'https://10.1.2.3:6443', 'certificate-authority-data': b64('CA-PEM'), config: { audience: 'api' } } },
    });
  });

  it('a failing plugin: its stderr and install hint in the error; the failure is not cached', async () => {
    const dir = pluginDir('#!/bin/sh\necho "error: not logged in" >&2\necho "run: acme login" >&2\necho third >&2\nexit 3\n');
    const connection = connectionFromKubeconfig(kubeconfig({}, execUser('client.authentication.k8s.io/v1', undefined, { installHint: 'brew install acme-auth' })), dir, { PATH: process.env.PATH });
    await assert.rejects(connection.authorization(), (e) => assertConfigError(e, /user "u".*plugin\.sh.*exited with code 3.*error: not logged in \| run: acme login \| third.*brew install acme-auth/));

    writeFileSync(join(dir, 'plugin.sh'), PLUGIN);
    assert.equal(await connection.authorization(), 'Bearer tok-1-arg1', 'the next request runs the plugin again');
  });

  const badAnswers: readonly { name: string; script: string; pattern: RegExp }[] = [
    { name: 'output that is not JSON', script: 'echo "Please log in"', pattern: /printed no ExecCredential JSON.*Please log in/ },
    { name: 'another kind', script: `echo '{"kind":"Secret"}'`, pattern: /not an ExecCredential/ },
    { name: 'another apiVersion', script: `echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"x"}}'`, pattern: /configured for client\.authentication\.k8s\.io\/v1 but the plugin answered with client\.authentication\.k8s\.io\/v1beta1/ },
    { name: 'no token', script: `echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}}'`, pattern: /without status\.token/ },
    {
      name: 'a client certificate instead of a token',
      script: `echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"x","clientKeyData":"y"}}'`,
      pattern: /client certificate.*does not support.*token/,
    },
    { name: 'a bad expirationTimestamp', script: `echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"x","expirationTimestamp":"soon"}}'`, pattern: /expirationTimestamp.*soon/ },
  ];
  for (const c of badAnswers) {
    it(`refuses ${c.name}`, async () => {
      const dir = pluginDir(`#!/bin/sh\n${c.script}\n`);
      const connection = connectionFromKubeconfig(kubeconfig({}, execUser('client.authentication.k8s.io/v1', undefined)), dir, { PATH: process.env.PATH });
      await assert.rejects(connection.authorization(), (e) => assertConfigError(e, c.pattern));
    });
  }

  it('a plugin that is not installed: the install hint', async () => {
    const connection = connectionFromKubeconfig(
      kubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'iuo-no-such-credential-plugin', installHint: 'see https://example.invalid/install' } }),
      '/nonexistent',
      { PATH: '/nonexistent' },
    );
    await assert.rejects(connection.authorization(), (e) => assertConfigError(e, /iuo-no-such-credential-plugin.*was not found.*see https:\/\/example\.invalid\/install/));
  });
});

describe('kubeconfig: refused with a message that says what to do', () => {
  const withContext = (context: Record<string, unknown>) => ({ ...kubeconfig({}, { token: 't' }), contexts: [{ name: 'ctx', context }] });
  const cases: readonly { name: string; document: unknown; pattern: RegExp }[] = [
    { name: 'an empty document', document: undefined, pattern: /empty or not a mapping/ },
    { name: 'no current-context', document: { ...kubeconfig(), 'current-context': undefined }, pattern: /no current-context.*kubectl config use-context/ },
    { name: 'an unknown current-context', document: { ...kubeconfig(), 'current-context': 'other' }, pattern: /current-context "other" is not among/ },
    { name: 'an unknown cluster', document: withContext({ cluster: 'nope', user: 'u' }), pattern: /cluster "nope" of context "ctx" is not among/ },
    { name: 'an unknown user', document: withContext({ cluster: 'c', user: 'nobody' }), pattern: /user "nobody" of context "ctx" is not among/ },
    { name: 'a cluster without server', document: kubeconfig({ server: undefined }), pattern: /cluster "c" has no server/ },
    { name: 'a server that is not http(s)', document: kubeconfig({ server: 'unix:///run/k8s.sock' }), pattern: /scheme unix:/ },
    { name: 'proxy-url', document: kubeconfig({ 'proxy-url': 'socks5://localhost:1080' }), pattern: /proxy-url.*not support/ },
    { name: 'an auth-provider', document: kubeconfig({}, { 'auth-provider': { name: 'gcp' } }), pattern: /auth-provider.*removed from kubectl in 1\.26.*exec credential plugin/ },
    { name: 'impersonation', document: kubeconfig({}, { token: 't', as: 'admin' }), pattern: /sets as \(impersonation\)/ },
    { name: 'two ways to authenticate', document: kubeconfig({}, { token: 't', username: 'a', password: 'b' }), pattern: /more than one way to authenticate \(token, basic auth/ },
    { name: 'a client certificate without key', document: kubeconfig({}, { 'client-certificate-data': b64('CERT') }), pattern: /client certificate without its key/ },
    { name: 'CA data that is not base64', document: kubeconfig({ 'certificate-authority-data': '-----BEGIN CERTIFICATE-----' }), pattern: /certificate-authority-data that is not base64/ },
    { name: 'an unquoted numeric token', document: kubeconfig({}, { token: 12345 }), pattern: /token must be a string; quote it/ },
    { name: 'exec v1alpha1', document: kubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'x' } }), pattern: /v1alpha1.*removed/ },
    { name: 'an interactive exec plugin', document: kubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x', interactiveMode: 'Always' } }), pattern: /needs a terminal/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => connectionFromKubeconfig(c.document, '/nonexistent', {}), (e) => assertConfigError(e, c.pattern));
    });
  }
});

describe('loadConnection', () => {
  it('reads a kubeconfig file; its relative paths resolve against its directory', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'ca.crt'), 'CA FILE');
    writeFileSync(
      join(dir, 'config'),
      ['apiVersion: v1', 'kind: Config', 'current-context: dev', 'contexts:', '- name: dev', '  context: {cluster: kind, user: me}', 'clusters:', '- name: kind', '  cluster:', '    server: https://127.0.0.1:39000/', '    certificate-authority: ca.crt', 'users:', '- name: me', '  user:', '    token: abc', ''].join('\n'),
    );
    const connection = loadConnection(join(dir, 'config'), {});
    assert.equal(connection.server, 'https://127.0.0.1:39000');
    assert.deepEqual({ ...connection.tls }, { ca: Buffer.from('CA FILE'), rejectUnauthorized: true });
    assert.equal(await connection.authorization(), 'Bearer abc');
  });

  it('names the file in its errors', () => {
    const dir = freshDir();
    assert.throws(() => loadConnection(join(dir, 'missing'), {}), (e) => assertConfigError(e, /cannot read the kubeconfig .*missing.*--kubeconfig/));
    writeFileSync(join(dir, 'broken'), 'clusters: [unclosed\n');
    assert.throws(() => loadConnection(join(dir, 'broken'), {}), (e) => assertConfigError(e, /broken is not valid YAML/));
    writeFileSync(join(dir, 'nocontext'), 'apiVersion: v1\nkind: Config\n');
    assert.throws(() => loadConnection(join(dir, 'nocontext'), {}), (e) => assertConfigError(e, /kubeconfig .*nocontext: the kubeconfig has no current-context/));
  });

  it('refuses a KUBECONFIG list of files (kubectl merges them; the operator reads one)', () => {
    const dir = freshDir();
    assert.throws(() => loadConnection(`${join(dir, 'a')}:${join(dir, 'b')}`, {}), (e) => assertConfigError(e, /is a list of files, which the operator does not merge; pass one file/));
  });

  it('without a path, the in-cluster ServiceAccount', () => {
    assert.throws(() => loadConnection(undefined, {}), (e) => assertConfigError(e, /KUBERNETES_SERVICE_HOST/));
  });

  it('has no run-time import of @kubernetes/client-node', () => {
    const source = readFileSync(new URL('../../../src/kube/rest/kube-connection.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(source, /^import\s+(?!type\b)[^;]*['"]@kubernetes\//m);
  });
});

describe('in-cluster ServiceAccount', () => {
  function serviceAccount(files: { token?: string; ca?: string }): string {
    const dir = freshDir();
    if (files.token !== undefined) writeFileSync(join(dir, 'token'), files.token);
    if (files.ca !== undefined) writeFileSync(join(dir, 'ca.crt'), files.ca);
    return dir;
  }

  const servers: readonly { host: string; port: string; server: string }[] = [
    { host: '10.96.0.1', port: '443', server: 'https://10.96.0.1:443' },
    { host: 'fd00:10:96::1', port: '443', server: 'https://[fd00:10:96::1]:443' },
  ];
  for (const s of servers) {
    it(`the service address ${s.host}, the token and the CA`, async () => {
      const dir = serviceAccount({ token: 'sa-token-1\n', ca: 'CLUSTER CA' });
      const connection = loadInCluster({ KUBERNETES_SERVICE_HOST: s.host, KUBERNETES_SERVICE_PORT: s.port }, dir);
      assert.equal(connection.server, s.server);
      assert.deepEqual({ ...connection.tls }, { ca: Buffer.from('CLUSTER CA'), rejectUnauthorized: true });
      assert.equal(await connection.authorization(), 'Bearer sa-token-1');
    });
  }

  it('the rotated token is read again after a minute', async () => {
    const dir = serviceAccount({ token: 'sa-token-1', ca: 'CA' });
    const clock = manualClock();
    const connection = loadInCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir, clock.now);
    assert.equal(await connection.authorization(), 'Bearer sa-token-1');
    writeFileSync(join(dir, 'token'), 'sa-token-2');
    clock.advance(30_000);
    assert.equal(await connection.authorization(), 'Bearer sa-token-1');
    clock.advance(30_000);
    assert.equal(await connection.authorization(), 'Bearer sa-token-2');
  });

  it('without a CA file the system roots apply (as client-go)', () => {
    const dir = serviceAccount({ token: 't' });
    const connection = loadInCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    assert.deepEqual({ ...connection.tls }, { rejectUnauthorized: true });
  });

  it('without a token: an error that points at automountServiceAccountToken', () => {
    const dir = serviceAccount({ ca: 'CA' });
    assert.throws(() => loadInCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir), (e) => assertConfigError(e, /ServiceAccount token.*automountServiceAccountToken/));
  });

  const missing: readonly { name: string; env: NodeJS.ProcessEnv }[] = [
    { name: 'neither variable', env: {} },
    { name: 'no port', env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' } },
    { name: 'no host', env: { KUBERNETES_SERVICE_PORT: '443' } },
    { name: 'an empty host', env: { KUBERNETES_SERVICE_HOST: '', KUBERNETES_SERVICE_PORT: '443' } },
  ];
  for (const m of missing) {
    it(`outside a pod (${m.name}): says to pass --kubeconfig`, () => {
      const dir = serviceAccount({ token: 't', ca: 'CA' });
      assert.throws(() => loadInCluster(m.env, dir), (e) => assertConfigError(e, /not a pod.*--kubeconfig/));
    });
  }
});
