// An istiod left running by an agent that was killed (SIGKILL leaves children alive) still holds its ClusterIP
// ports. The agent records each istiod's pid in the istiod's state directory; a leftover is identified exactly, by
// that pid file AND the process's working directory and binary, and only then killed.
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from './logger.ts';

export const PID_FILE = 'pid';

export async function killLeftoverIstiod(stateDir: string, rootDir: string, log: Logger): Promise<void> {
  const pid = Number(await readFile(join(stateDir, PID_FILE), 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return;
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (cwd !== rootDir || !cmdline.includes('pilot-discovery')) return;
  log.warn({ pid }, 'killing an istiod left over by a previous agent');
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && (await readlink(`/proc/${pid}/cwd`).catch(() => undefined)) !== undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
