// The command-line tools whose Job pods the node agent runs as local processes (kwok leaves these pods alone, see
// hack/cluster/kwok-stages.yaml): a container whose image is named after the tool (`.../istioctl:<tag>`,
// `.../helm:<tag>`) runs that tool, the image's entrypoint, built locally by hack/build in the version of the tag.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { IstioBinaries, imageName, imageTag } from './istio-binaries.ts';

export type ToolName = 'istioctl' | 'helm';

export interface PodTool {
  /** The image's repository name (the last path segment) and its entrypoint. */
  readonly name: ToolName;
  /** The local binary of the version the image tag names, or why there is none (reported as ErrImagePull). */
  resolve(image: string): { path: string; version: string } | { error: string };
  /**
   * What the image's own filesystem would give the container besides PATH and HOME, for a run whose private
   * HOME is `home` (the pod's own env wins over these).
   */
  env(home: string): Record<string, string>;
}

/**
 * Helm images (docker.io/alpine/helm:3.22.0, .../helm:v3.22.0) are tagged with the Helm version, with or without its
 * leading v; hack/build puts Helm vX.Y.Z in bin/helm-vX.Y.Z/helm.
 */
export function helmVersionOfImage(image: string): string | undefined {
  const tag = imageTag(image);
  if (tag === undefined || tag === '' || tag === 'v') return undefined;
  return tag.startsWith('v') ? tag : `v${tag}`;
}

export function helmTool(binRoot: string): PodTool {
  return {
    name: 'helm',
    resolve(image) {
      const version = helmVersionOfImage(image);
      if (version === undefined) return { error: `image ${image} has no tag, so no Helm version` };
      const path = join(binRoot, `helm-${version}`, 'helm');
      if (!existsSync(path)) return { error: `no helm built for Helm ${version} (expected ${path})` };
      return { path, version };
    },
    // Helm's XDG directories (repository cache, registry config, plugins) in the run's own HOME, where a container
    // would have them on its writable filesystem; never the agent's ~/.cache/helm.
    env: (home) => ({
      HELM_CACHE_HOME: join(home, '.cache', 'helm'),
      HELM_CONFIG_HOME: join(home, '.config', 'helm'),
      HELM_DATA_HOME: join(home, '.local', 'share', 'helm'),
    }),
  };
}

export function istioctlTool(binaries: IstioBinaries): PodTool {
  return { name: 'istioctl', resolve: (image) => binaries.resolve(image, 'istioctl'), env: () => ({}) };
}

export class PodTools {
  readonly #tools: ReadonlyMap<string, PodTool>;

  constructor(tools: readonly PodTool[]) {
    this.#tools = new Map(tools.map((t) => [t.name, t]));
  }

  /** The tool an image runs, by its repository name (`docker.io/alpine/helm:3.22.0` -> helm). */
  forImage(image: string): PodTool | undefined {
    return this.#tools.get(imageName(image));
  }

  /** The first container of `pod` whose image is one of the tools: these are the pods the agent runs instead of kwok. */
  containerOf(pod: V1Pod): { container: V1Container; tool: PodTool } | undefined {
    for (const container of pod.spec?.containers ?? []) {
      const tool = container.image === undefined ? undefined : this.forImage(container.image);
      if (tool !== undefined) return { container, tool };
    }
    return undefined;
  }
}

/** istioctl and helm, from the binary cache hack/build fills (bin/istio-<version>/, bin/helm-<version>/). */
export function defaultPodTools(binRoot: string, istio: IstioBinaries = new IstioBinaries(binRoot)): PodTools {
  return new PodTools([istioctlTool(istio), helmTool(binRoot)]);
}
