// The cluster lock: one launcher at a time per cluster (several test files may call ensureClusterUp at once).
// A directory holding the owner's pid; a lock whose owner died is taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { paths } from './paths.ts';
import { isAlive } from './processes.ts';

export async function withLock<T>(fn: () => Promise<T>, log: (l: string) => void): Promise<T> {
  const { lockDir } = paths();
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 20 * 60_000;
  let said = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // being written right now, or left empty by a crash: judged by age below
      }
      const age = Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if ((Number.isInteger(holder) && !isAlive(holder)) || (!Number.isInteger(holder) && age > 10_000)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the cluster lock ${lockDir} (held by pid ${holder})`);
      if (!said) log(`waiting for another launcher (pid ${holder}) to finish...`);
      said = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
