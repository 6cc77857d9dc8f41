// The installer image must be one the operator allows (--installer-images): creating an IstioUpgrade must not
// run an arbitrary image as the installer ServiceAccount.
import { chooseInstallerImage } from '../installer-images.ts';
import { refuse, type Finding, type PrecheckContext } from './context.ts';

export function installerImage(ctx: PrecheckContext): Finding | undefined {
  const { spec, observed } = ctx.draft;
  if (spec.installer.mode !== 'istioctl') return undefined;
  const choice = chooseInstallerImage(spec.installer.istioctl.image, spec.version, observed.allowedInstallerImages);
  return choice.ok ? undefined : refuse('InstallerImageNotAllowed', choice.message);
}
