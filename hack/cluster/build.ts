// The pinned binaries: hack/build/build-binaries.sh (skipped when up to date) and the cluster's bin dir of
// stable names.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { REPO_ROOT, type ClusterInfo } from './paths.ts';

const BUILD_SCRIPT = join(REPO_ROOT, 'hack', 'build', 'build-binaries.sh');

/**
 * Runs hack/build/build-binaries.sh. Its full output (go's included) goes to `logFile`, and only its progress
 * lines, which it writes to fd 3 (IUO_BUILD_PROGRESS_FD), go to `log`: one per component as it starts and ends,
 * with the elapsed time and the expected total; one line in all when everything is up to date. With `verbose`
 * the full output goes to stderr instead (progress lines included) and nothing to the log file.
 */
async function runBuildScript(logFile: string, verbose: boolean, log: (l: string) => void): Promise<void> {
  const fd = verbose ? undefined : openSync(logFile, 'w');
  try {
    const child =
      fd === undefined
        ? spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 2, 2], env: process.env })
        : spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', fd, fd, 'pipe'], env: { ...process.env, IUO_BUILD_PROGRESS_FD: '3', IUO_BUILD_LOG: logFile } });
    const progress = child.stdio[3];
    if (progress instanceof Readable) createInterface({ input: progress, crlfDelay: Infinity }).on('line', log);
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) throw new Error(`hack/build/build-binaries.sh failed (exit ${code ?? signal ?? '?'}); see ${verbose ? 'the output above' : logFile}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function buildBinaries(info: ClusterInfo, verbose: boolean, log: (l: string) => void): Promise<void> {
  if (process.env['IUO_SKIP_BUILD'] === '1') {
    log('IUO_SKIP_BUILD=1: not running hack/build/build-binaries.sh');
  } else {
    await runBuildScript(join(info.logsDir, 'build.log'), verbose, log);
  }
  for (const [what, dir, files, required] of [
    ['kubernetes', info.binDirs.k8s, ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'], true],
    ['etcd', info.binDirs.etcd, ['etcd'], true],
    ['kwok', info.binDirs.kwok, ['kwok', 'kwokctl'], true],
    ['istio old', info.binDirs.istioOld, ['istioctl', 'pilot-discovery'], false],
    ['istio new', info.binDirs.istioNew, ['istioctl', 'pilot-discovery'], false],
    ['helm', info.binDirs.helm, ['helm'], false],
    ['chart repository', info.chartRepoDir, ['index.yaml'], false],
  ] as const) {
    for (const f of files) {
      if (existsSync(join(dir, f))) continue;
      if (required) throw new Error(`${what} binary ${join(dir, f)} is missing (hack/build/build-binaries.sh)`);
      log(`warning: ${what} ${f === 'index.yaml' ? 'file' : 'binary'} ${join(dir, f)} is missing`);
    }
  }
}

/** The cluster's PATH directory: symlinks to the pinned binaries under stable names. */
export function linkBinDir(info: ClusterInfo): void {
  mkdirSync(info.binDir, { recursive: true });
  const { istioOld, istioNew } = info.versions;
  const links: [string, string][] = [
    ['kubectl', join(info.binDirs.k8s, 'kubectl')],
    ['kwokctl', join(info.binDirs.kwok, 'kwokctl')],
    ['etcd', join(info.binDirs.etcd, 'etcd')],
    ['istioctl', join(info.binDirs.istioNew, 'istioctl')],
    [`istioctl-${istioNew}`, join(info.binDirs.istioNew, 'istioctl')],
    [`istioctl-${istioOld}`, join(info.binDirs.istioOld, 'istioctl')],
    [`pilot-discovery-${istioNew}`, join(info.binDirs.istioNew, 'pilot-discovery')],
    [`pilot-discovery-${istioOld}`, join(info.binDirs.istioOld, 'pilot-discovery')],
    ['helm', join(info.binDirs.helm, 'helm')],
    [`helm-${info.versions.helm}`, join(info.binDirs.helm, 'helm')],
  ];
  for (const [name, target] of links) {
    const at = join(info.binDir, name);
    let current: string | undefined;
    try {
      current = readlinkSync(at);
    } catch {
      current = undefined;
    }
    if (current === target) continue;
    rmSync(at, { force: true });
    symlinkSync(target, at);
  }
}
