// npm test: the whole suite. Lint and type-check first (cheap, catch most mistakes), then every test file in
// one node:test run so the runner prints a single closing summary, with coverage of the pure planner.
import { spawnSync } from 'node:child_process';
import { ensureTools } from './ensure-tools.ts';

function run(label: string, command: string, args: string[]): void {
  console.log(`\n== ${label}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`== ${label} failed (exit ${result.status ?? result.signal ?? 'unknown'})`);
    process.exit(result.status ?? 1);
  }
}

console.log(`node ${process.version}`);
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error('the suite runs on Node 24 LTS: run it through npm (npm ci installs node@24 as a dev dependency)');
  process.exit(1);
}
ensureTools();
run('lint', 'eslint', ['.']);
run('typecheck', 'tsc', ['-p', 'tsconfig.json']);
run('tests', process.execPath, [
  '--test',
  '--test-reporter=spec',
  '--experimental-test-coverage',
  '--test-coverage-include=src/core/**',
  '--test-coverage-lines=90',
  'test/**/*.test.ts',
]);
