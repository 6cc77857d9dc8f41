// Which installer images an IstioUpgrade may run: the operator's configuration decides, the spec only chooses
// among them, so creating an IstioUpgrade cannot run an arbitrary image as the installer ServiceAccount.
// An entry is a repository (any tag: the version becomes the tag) or `repository:version@sha256:<digest>`
// (that version only, run by digest, so a re-pushed tag cannot change what runs). An allowlist of pinned
// entries only is how an administrator requires digests.

export const DEFAULT_INSTALLER_IMAGES: readonly string[] = ['docker.io/istio/istioctl', 'docker.io/alpine/helm'];

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A repository (host[:port]/path), or repository:tag@sha256:<64 hex>. */
export const INSTALLER_IMAGE_ENTRY = /^[^\s@:]+(:[0-9]+)?(\/[^\s@:]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}@sha256:[a-f0-9]{64})?$/;

function pinnedEntry(entry: string): { repository: string; tag: string; digest: string } | undefined {
  const at = entry.indexOf('@');
  if (at < 0) return undefined;
  const name = entry.slice(0, at);
  const colon = name.lastIndexOf(':');
  if (colon < 0 || name.slice(colon).includes('/')) return undefined;
  const digest = entry.slice(at + 1);
  return DIGEST.test(digest) ? { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest } : undefined;
}

export type InstallerImageChoice = { readonly ok: true; readonly reference: string } | { readonly ok: false; readonly message: string };

/** The image reference a Job of `repository` at `version` runs, or a refusal naming the allowlist. */
export function chooseInstallerImage(repository: string, version: string, allowed: readonly string[], field = 'spec.installer.istioctl.image (and spec.version)'): InstallerImageChoice {
  const pinned = allowed.find((entry) => {
    const p = pinnedEntry(entry);
    return p !== undefined && p.repository === repository && p.tag === version;
  });
  if (pinned !== undefined) return { ok: true, reference: pinned };
  if (allowed.includes(repository)) return { ok: true, reference: `${repository}:${version}` };
  const pinnedOnly = allowed.some((entry) => pinnedEntry(entry)?.repository === repository);
  const why = pinnedOnly ? `installer image "${repository}" is allowed only pinned by digest, and not for version ${version}` : `installer image "${repository}" is not allowed`;
  return {
    ok: false,
    message: `${why}; the operator runs only ${allowed.map((a) => `"${a}"`).join(', ')} (its --installer-images flag): choose one of them in ${field}, or ask the operator's administrator to allow it`,
  };
}
