// Stopping and restarting the cluster's own daemons from a test (e.g. Prometheus going away mid-soak).
import { ensureClusterUp } from '../cluster/cluster.ts';
import { daemonPid } from '../cluster/status.ts';
import { sleep } from './kube.ts';

export async function stopPrometheus(): Promise<void> {
  const pid = daemonPid('prometheus');
  if (pid === undefined) return;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && daemonPid('prometheus') !== undefined; i++) await sleep(100);
}

/** ensureClusterUp restarts a dead exporter, Prometheus or agent (and waits until Prometheus scrapes again). */
export async function restartDeadDaemons(): Promise<void> {
  await ensureClusterUp();
}
