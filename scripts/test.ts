// npm test: the whole suite. Lint and type-check first (cheap, catch most mistakes), then every test file in
// one node:test run (so the runner prints a single closing summary) inside the hermetic cluster's network
// namespace, with coverage of the pure planner. Extra arguments select test files.
import { spawnSync } from 'node:child_process';
import { clusterDown, ensureClusterUp } from '../hack/cluster/cluster.ts';
import { ensureTools } from './ensure-tools.ts';

function run(label: string, command: string, args: string[]): number {
  console.log(`\n== ${label}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  const status = result.status ?? 1;
  if (status !== 0) console.error(`== ${label} failed (exit ${result.status ?? result.signal ?? 'unknown'})`);
  return status;
}

console.log(`node ${process.version}`);
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error('the suite runs on Node 24 LTS: run it through npm (npm ci installs node@24 as a dev dependency)');
  process.exit(1);
}
ensureTools();
for (const [label, command, args] of [
  ['lint', 'eslint', ['.']],
  ['typecheck', 'tsc', ['-p', 'tsconfig.json']],
] as const) {
  const status = run(label, command, [...args]);
  if (status !== 0) process.exit(status);
}

// The hermetic cluster (built from pinned Go modules on first use; reused when already up). Every test runs
// inside its network namespace, one file at a time: the cluster tests share one cluster. Its progress (the first
// build takes ~20 minutes: one line per component) goes to stderr.
const cluster = await ensureClusterUp({
  log: (line) => {
    console.error(`[cluster] ${line}`);
  },
});
console.log(`cluster ${cluster.name} up (network namespace ${cluster.netns})`);
let status = 1;
try {
  status = run('tests', 'ip', [
    'netns',
    'exec',
    cluster.netns,
    'env',
    ...Object.entries(cluster.env).map(([k, v]) => `${k}=${v}`),
    process.execPath,
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--experimental-test-coverage',
    '--test-coverage-include=src/core/**',
    '--test-coverage-lines=90',
    ...(process.argv.length > 2 ? process.argv.slice(2) : ['test/**/*.test.ts']),
  ]);
} finally {
  // CI starts from nothing and leaves nothing; a developer keeps the cluster for the next run.
  if (process.env.CI === 'true') await clusterDown();
}
process.exit(status);
