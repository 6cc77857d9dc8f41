// Assembles the container's runtime layout without a container engine (none exists here): the bundled
// dist/ (scripts/bundle.ts, as the Dockerfile builds it) and package.json in a temp directory, no node_modules,
// then starts it. Prints the sizes that make up the image estimate. `node scripts/runtime-layout.ts [--keep]`.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// gcr.io/distroless/nodejs24-debian12 (Node 24 + glibc, no shell), uncompressed, as published.
const DISTROLESS_NODE_BASE_MB = 145;

export interface LayoutReport {
  readonly dir: string;
  readonly versionOutput: string;
  readonly helpFirstLine: string;
  readonly badFlag: { status: number | null; stderr: string };
  readonly distMb: number;
  readonly hasNodeModules: boolean;
  readonly estimatedImageMb: number;
}

function sizeMb(path: string): number {
  const kb = Number(execFileSync('du', ['-sk', path], { encoding: 'utf8' }).split('\t')[0]);
  return Math.round((kb / 1024) * 10) / 10;
}

export async function buildRuntimeLayout(keep = false): Promise<LayoutReport> {
  const dir = mkdtempSync(join(tmpdir(), 'iuo-runtime-'));
  try {
    await bundle(join(dir, 'dist', 'main.js'));
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const node = process.execPath;
    const start = (args: string[]) => spawnSync(node, ['dist/main.js', ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const version = start(['--version']);
    const help = start(['--help']);
    if (version.status !== 0 || help.status !== 0) throw new Error(`the runtime layout does not start: ${version.stderr}${help.stderr}`);
    const bad = start(['--resync', 'soon']);
    const distMb = sizeMb(join(dir, 'dist'));
    return {
      dir,
      versionOutput: version.stdout.trim(),
      helpFirstLine: help.stdout.split('\n')[0] ?? '',
      badFlag: { status: bad.status, stderr: bad.stderr.split('\n')[0] ?? '' },
      distMb,
      hasNodeModules: existsSync(join(dir, 'node_modules')),
      estimatedImageMb: Math.round(DISTROLESS_NODE_BASE_MB + distMb),
    };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await buildRuntimeLayout(process.argv.includes('--keep'));
  console.log(JSON.stringify(report, null, 2));
}
