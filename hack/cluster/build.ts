// The pinned binaries: hack/build/build-binaries.sh (skipped when up to date) and the cluster's bin dir of
// stable names.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, type ClusterInfo } from './paths.ts';

export function buildBinaries(info: ClusterInfo, opts: { verboseBuild?: boolean }, log: (l: string) => void): void {
  if (process.env['IUO_SKIP_BUILD'] === '1') {
    log('IUO_SKIP_BUILD=1: not running hack/build/build-binaries.sh');
  } else {
    const logFile = join(info.logsDir, 'build.log');
    const fd = openSync(logFile, 'w');
    try {
      const r = spawnSync('bash', [join(REPO_ROOT, 'hack', 'build', 'build-binaries.sh')], {
        stdio: opts.verboseBuild ? ['ignore', 2, 2] : ['ignore', fd, fd],
        env: process.env,
      });
      if (r.status !== 0) throw new Error(`hack/build/build-binaries.sh failed (exit ${r.status ?? r.signal ?? '?'}); see ${logFile}`);
    } finally {
      closeSync(fd);
    }
  }
  for (const [what, dir, files, required] of [
    ['kubernetes', info.binDirs.k8s, ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'], true],
    ['etcd', info.binDirs.etcd, ['etcd'], true],
    ['kwok', info.binDirs.kwok, ['kwok', 'kwokctl'], true],
    ['istio old', info.binDirs.istioOld, ['istioctl', 'pilot-discovery'], false],
    ['istio new', info.binDirs.istioNew, ['istioctl', 'pilot-discovery'], false],
  ] as const) {
    for (const f of files) {
      if (existsSync(join(dir, f))) continue;
      if (required) throw new Error(`${what} binary ${join(dir, f)} is missing (hack/build/build-binaries.sh)`);
      log(`warning: ${what} binary ${join(dir, f)} is missing`);
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
