// Which installer images an IstioUpgrade may run: the operator's configuration decides, the spec only chooses
// among them, so creating an IstioUpgrade cannot run an arbitrary image as the installer ServiceAccount.

export const DEFAULT_INSTALLER_IMAGES: readonly string[] = ['docker.io/istio/istioctl'];

/** A refusal naming the image and the allowlist, or undefined when the image may run. */
export function installerImageRefusal(image: string, allowed: readonly string[]): string | undefined {
  if (allowed.includes(image)) return undefined;
  return `installer image "${image}" is not allowed; the operator runs only ${allowed.map((a) => `"${a}"`).join(', ')} (its --installer-images flag): choose one of them in spec.installer.istioctl.image, or ask the operator's administrator to allow it`;
}
