// Installs the Debian tools the test suite needs when they are missing (a fresh machine has none of them).
import { spawnSync } from 'node:child_process';

const PACKAGES: Readonly<Record<string, string>> = {
  'lua5.1': 'lua5.1', // runs the Argo CD health check as Argo CD's embedded Lua 5.1 would
};

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function apt(args: string[]): boolean {
  return spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

export function ensureTools(): void {
  const missing = Object.entries(PACKAGES).filter(([command]) => !have(command)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(', ')} from Debian`);
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(', ')}: install with \`apt-get install ${missing.join(' ')}\` (needs root)`);
  const install = ['install', '-y', '-q', '--no-install-recommends', ...missing];
  if (!apt(install) && !(apt(['update', '-q']) && apt(install))) throw new Error(`apt-get could not install ${missing.join(', ')}`);
}
