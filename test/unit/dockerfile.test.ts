// No container engine exists here, so the image is proven two ways: the Dockerfile is linted (syntax and
// policy), and the same runtime layout is assembled and started (scripts/runtime-layout.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { validate } from 'dockerfile-utils';
import { buildRuntimeLayout } from '../../scripts/runtime-layout.ts';

const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const instructions = dockerfile
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
  .map((line) => line.trim());

describe('Dockerfile', () => {
  it('has no syntax or semantic problems (dockerfile-utils)', () => {
    const problems = validate(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`);
    assert.deepEqual(problems, []);
  });

  it('is multi-stage, Node 24, with pinned base images', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    assert.ok(froms.length >= 2, 'build, runtime');
    assert.match(dockerfile, /ARG NODE_IMAGE=node:24\.\d+\.\d+-/);
    assert.match(dockerfile, /ARG RUNTIME_IMAGE=gcr\.io\/distroless\/nodejs24-/);
    assert.doesNotMatch(dockerfile, /:latest\b/);
  });

  it('builds with the same Node 24 patch the project runs and tests on (package-lock), not an older one', () => {
    const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { version?: string }> };
    const locked = lock.packages['node_modules/node']?.version;
    assert.match(locked ?? '', /^24\.\d+\.\d+$/);
    assert.equal(/ARG NODE_IMAGE=node:(24\.\d+\.\d+)-/.exec(dockerfile)?.[1], locked);
  });

  it('ships the bundled build only (no node_modules) and runs as a numeric non-root user', () => {
    assert.match(dockerfile, /RUN node scripts\/bundle\.ts/);
    assert.ok(!instructions.some((l) => l.includes('node_modules')), 'nothing of node_modules reaches the image');
    const lastFrom = instructions.map((l, i) => (l.startsWith('FROM ') ? i : -1)).filter((i) => i >= 0).at(-1) ?? 0;
    const runtime = instructions.slice(lastFrom);
    const user = runtime.find((l) => l.startsWith('USER '));
    assert.match(user ?? '', /^USER [1-9]\d*:[1-9]\d*$/);
    assert.ok(!runtime.some((l) => l.startsWith('RUN ')), 'nothing runs in the distroless stage');
    assert.ok(!instructions.some((l) => l.startsWith('ADD ')), 'COPY, never ADD');
    assert.match(runtime.find((l) => l.startsWith('ENTRYPOINT')) ?? '', /^ENTRYPOINT \[".*node", (".+", )*"dist\/main\.js"\]$/, 'exec form: node is PID 1 and gets SIGTERM');
  });

  it('bounds the V8 heap and glibc malloc as measured (README "Memory"), so the memory limit holds', () => {
    const entrypoint = instructions.find((l) => l.startsWith('ENTRYPOINT')) ?? '';
    assert.match(entrypoint, /"--max-semi-space-size=1"/);
    assert.match(entrypoint, /"--max-old-space-size=\d+"/);
    assert.match(entrypoint, /"--optimize-for-size"/);
    const env = instructions.filter((l) => l.startsWith('ENV ')).join(' ');
    assert.match(env, /MALLOC_ARENA_MAX=1/);
    assert.match(env, /MALLOC_TRIM_THRESHOLD_=\d+/);
  });
});

describe('runtime layout (what the image contains)', () => {
  it('starts from the bundled dist/ alone (no node_modules), answers --version and --help, rejects bad flags', async () => {
    const report = await buildRuntimeLayout();
    console.log(`runtime layout: dist ${report.distMb} MB, estimated image ${report.estimatedImageMb} MB`);
    assert.match(report.versionOutput, /^istio-upgrade-operator \d+\.\d+\.\d+$/);
    assert.equal(report.helpFirstLine, 'Usage: istio-upgrade-operator [flags]');
    assert.equal(report.badFlag.status, 2);
    assert.match(report.badFlag.stderr, /--resync: must be a duration/);
    assert.equal(report.hasNodeModules, false);
    assert.ok(report.distMb < 10, `dist is ${report.distMb} MB`);
  });
});
