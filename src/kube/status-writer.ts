// The one status write of a pass: the whole .status replaced through the status subresource (a JSON patch,
// so fields the planner dropped really go), skipped when nothing changed.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { API_GROUP, API_VERSION, PLURAL } from '../api/constants.ts';
import type { IstioUpgradeStatus } from '../api/schema.ts';
import { classifyApiError, statusCodeOf } from './api-errors.ts';

/** The resourceVersion the write produced, or undefined when nothing changed (no write). */
export async function writeStatus(
  custom: CustomObjectsApi,
  name: string,
  previous: IstioUpgradeStatus,
  next: IstioUpgradeStatus,
): Promise<string | undefined> {
  if (isDeepStrictEqual(previous, next)) return undefined;
  const patch = () =>
    custom.patchClusterCustomObjectStatus(
      { group: API_GROUP, version: API_VERSION, plural: PLURAL, name, body: [{ op: 'add', path: '/status', value: next }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  let written: unknown;
  try {
    try {
      written = await patch();
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      // A conflict: re-read (the object may be gone) and retry once; a second conflict backs off.
      await custom.getClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL, name });
      written = await patch();
    }
  } catch (error) {
    throw classifyApiError(error, `patch istioupgrades/${name}/status`);
  }
  const meta = typeof written === 'object' && written !== null && 'metadata' in written ? written.metadata : undefined;
  const resourceVersion = typeof meta === 'object' && meta !== null && 'resourceVersion' in meta ? meta.resourceVersion : undefined;
  return typeof resourceVersion === 'string' ? resourceVersion : '';
}
