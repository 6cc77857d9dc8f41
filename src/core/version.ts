// Istio version arithmetic: parsing, ordering, revision names and the version behind an image.

export interface IstioVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/;

export function parseVersion(text: string): IstioVersion | undefined {
  const match = VERSION.exec(text.trim());
  if (match === null) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

export function compareVersions(a: IstioVersion, b: IstioVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatVersion(v: IstioVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** The revision name `istioctl` users conventionally derive from a version: 1.28.1 -> 1-28-1. */
export function revisionForVersion(version: string): string {
  return version.replaceAll('.', '-');
}

/** The tag of an image reference (`docker.io/istio/pilot:1.28.1` -> `1.28.1`), ignoring digests. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > lastSlash ? withoutDigest.slice(lastColon + 1) : undefined;
}

/** The Istio version an istiod or proxy image runs, when its tag says (`1.28.1`, `1.28.1-distroless`). */
export function versionFromImage(image: string): IstioVersion | undefined {
  const tag = imageTag(image);
  return tag === undefined ? undefined : parseVersion(tag);
}
