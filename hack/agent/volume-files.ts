// Volume mounts without a container runtime: the ConfigMap/Secret files a container would see under `mountPath`
// are written below a local root directory instead (root + mountPath), and path arguments are rewritten to match
// (istioctl's `-f /etc/istio-upgrade/overlay.yaml`). istiod runs with that root as its working directory, so its
// relative defaults (./var/run/secrets/istiod/ca, ./etc/cacerts, ./etc/istio/config/mesh) land on the mounted files.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { V1KeyToPath, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { KeyLookup } from './pod-env.ts';

export interface MountMapping {
  readonly mountPath: string;
  readonly localPath: string;
}

export interface MountSet {
  readonly mappings: readonly MountMapping[];
  /** Volumes whose source is missing (a required ConfigMap or Secret): the kubelet would not start the container. */
  readonly missing: readonly string[];
}

/** Writes every mounted ConfigMap/Secret/emptyDir of a container below `rootDir`; unchanged files are not touched. */
export async function materializeMounts(
  volumes: readonly V1Volume[],
  mounts: readonly V1VolumeMount[],
  namespace: string,
  rootDir: string,
  lookup: KeyLookup,
): Promise<MountSet> {
  const mappings: MountMapping[] = [];
  const missing: string[] = [];
  for (const mount of mounts) {
    const volume = volumes.find((v) => v.name === mount.name);
    const localPath = join(rootDir, normalize(`/${mount.mountPath}`));
    mappings.push({ mountPath: mount.mountPath, localPath });
    const files = volume ? await volumeFiles(volume, namespace, lookup) : undefined;
    if (files === undefined) {
      missing.push(mount.name);
      continue;
    }
    if (mount.subPath) {
      const content = files.get(mount.subPath);
      if (content !== undefined) await writeIfChanged(localPath, content);
      continue;
    }
    await mkdir(localPath, { recursive: true });
    for (const [relative, content] of files) await writeIfChanged(join(localPath, normalize(`/${relative}`)), content);
  }
  return { mappings, missing };
}

/** Rewrites arguments that name a path under a mount (`/etc/x/overlay.yaml`, `--file=/etc/x/overlay.yaml`). */
export function rewriteMountPaths(args: readonly string[], mappings: readonly MountMapping[]): string[] {
  // Longest mount path first, so nested mounts win over their parents.
  const sorted = [...mappings].sort((a, b) => b.mountPath.length - a.mountPath.length);
  return args.map((arg) => {
    const equals = arg.startsWith('-') ? arg.indexOf('=') : -1;
    const prefix = equals >= 0 ? arg.slice(0, equals + 1) : '';
    const path = arg.slice(prefix.length);
    for (const { mountPath, localPath } of sorted) {
      const base = mountPath.replace(/\/+$/, '');
      if (path === base || path.startsWith(`${base}/`)) return prefix + localPath + path.slice(base.length);
    }
    return arg;
  });
}

/** The files of a volume (relative path -> content); undefined when a required source does not exist. */
async function volumeFiles(volume: V1Volume, namespace: string, lookup: KeyLookup): Promise<Map<string, string> | undefined> {
  if (volume.configMap) {
    const source = volume.configMap;
    return selectKeys(await lookup.configMap(namespace, source.name ?? ''), source.items, source.optional);
  }
  if (volume.secret) {
    const source = volume.secret;
    return selectKeys(await lookup.secret(namespace, source.secretName ?? ''), source.items, source.optional);
  }
  if (volume.projected) {
    const files = new Map<string, string>();
    for (const source of volume.projected.sources ?? []) {
      const part = source.configMap
        ? selectKeys(await lookup.configMap(namespace, source.configMap.name ?? ''), source.configMap.items, source.configMap.optional)
        : source.secret
          ? selectKeys(await lookup.secret(namespace, source.secret.name ?? ''), source.secret.items, source.secret.optional)
          : new Map<string, string>(); // serviceAccountToken, downwardAPI: nothing the emulated processes read
      if (part === undefined) return undefined;
      for (const [path, content] of part) files.set(path, content);
    }
    return files;
  }
  return new Map(); // emptyDir and anything else: an empty directory
}

function selectKeys(
  data: Readonly<Record<string, string>> | undefined,
  items: readonly V1KeyToPath[] | undefined,
  optional: boolean | undefined,
): Map<string, string> | undefined {
  if (data === undefined) return optional === true ? new Map() : undefined;
  if (items === undefined || items.length === 0) return new Map(Object.entries(data));
  const files = new Map<string, string>();
  for (const item of items) {
    const content = data[item.key];
    if (content !== undefined) files.set(item.path, content);
  }
  return files;
}

/** Atomic replace (write + rename), like the kubelet's symlink swap, so a watching process never reads half a file. */
async function writeIfChanged(path: string, content: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === content) return;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}
