// Assembles the container's runtime layout without a container engine (none exists here): the compiled
// dist/, package.json and production-only node_modules in a temp directory, then starts it. Prints the
// sizes that make up the image estimate. `node scripts/runtime-layout.ts [--keep]`.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// gcr.io/distroless/nodejs24-debian12 (Node 24 + glibc, no shell), uncompressed, as published.
const DISTROLESS_NODE_BASE_MB = 145;

export interface LayoutReport {
  readonly dir: string;
  readonly versionOutput: string;
  readonly helpFirstLine: string;
  readonly badFlag: { status: number | null; stderr: string };
  readonly distMb: number;
  readonly nodeModulesMb: number;
  readonly estimatedImageMb: number;
}

function sizeMb(path: string): number {
  const kb = Number(execFileSync('du', ['-sk', path], { encoding: 'utf8' }).split('\t')[0]);
  return Math.round((kb / 1024) * 10) / 10;
}

export function buildRuntimeLayout(keep = false): LayoutReport {
  const dir = mkdtempSync(join(tmpdir(), 'iuo-runtime-'));
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { stdio: 'inherit' });
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(dir, file));
    // --offline: from the npm cache the full install just filled; the tests run in a network namespace with no way out.
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
    execFileSync('sh', [join(ROOT, 'scripts', 'prune-node-modules.sh'), join(dir, 'node_modules')], { stdio: 'inherit' });
    const node = process.execPath;
    const start = (args: string[]) => spawnSync(node, ['dist/main.js', ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const version = start(['--version']);
    const help = start(['--help']);
    if (version.status !== 0 || help.status !== 0) throw new Error(`the runtime layout does not start: ${version.stderr}${help.stderr}`);
    const bad = start(['--resync', 'soon']);
    const distMb = sizeMb(join(dir, 'dist'));
    const nodeModulesMb = sizeMb(join(dir, 'node_modules'));
    return {
      dir,
      versionOutput: version.stdout.trim(),
      helpFirstLine: help.stdout.split('\n')[0] ?? '',
      badFlag: { status: bad.status, stderr: bad.stderr.split('\n')[0] ?? '' },
      distMb,
      nodeModulesMb,
      estimatedImageMb: Math.round(DISTROLESS_NODE_BASE_MB + distMb + nodeModulesMb),
    };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = buildRuntimeLayout(process.argv.includes('--keep'));
  console.log(JSON.stringify(report, null, 2));
}
