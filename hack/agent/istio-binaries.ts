// Maps a container image to the locally built Istio binary of the same version: the image tag is the Istio version
// (docker.io/istio/pilot:1.31.0, .../istioctl:1.30.4), and hack/build puts each version in bin/istio-<version>/.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type IstioBinary = 'istioctl' | 'pilot-discovery';

/** Image variants Istio publishes as tag suffixes; they run the same binary. */
const VARIANT_SUFFIXES = ['-distroless', '-debug'];

/** The tag of an image reference, without a digest; undefined when the image has no tag. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon >= 0 ? withoutDigest.slice(colon + 1) : undefined;
}

/** The repository name of an image without registry, path or tag: `docker.io/istio/istioctl:1.31.0` -> `istioctl`. */
export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const name = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = name.indexOf(':');
  return colon >= 0 ? name.slice(0, colon) : name;
}

export function istioVersionOfImage(image: string): string | undefined {
  const tag = imageTag(image);
  if (tag === undefined) return undefined;
  const variant = VARIANT_SUFFIXES.find((suffix) => tag.endsWith(suffix));
  return variant === undefined ? tag : tag.slice(0, -variant.length);
}

export class IstioBinaries {
  readonly #binRoot: string;

  constructor(binRoot: string) {
    this.#binRoot = binRoot;
  }

  /** Path of `binary` for the Istio version in `image`, or an explanation of why there is none. */
  resolve(image: string, binary: IstioBinary): { path: string; version: string } | { error: string } {
    const version = istioVersionOfImage(image);
    if (version === undefined) return { error: `image ${image} has no tag, so no Istio version` };
    const path = join(this.#binRoot, `istio-${version}`, binary);
    if (!existsSync(path)) return { error: `no ${binary} built for Istio ${version} (expected ${path})` };
    return { path, version };
  }
}
