// The one status write of a pass, through the status subresource as one JSON patch, skipped when nothing
// changed. Only the top-level fields that changed are sent (a wave's namespace list is sent when that wave
// changes, not on every counter update); a field the planner dropped is removed. When the stored status is not
// what the patch expects (a field to remove is not there, no status at all yet), the whole status is replaced.
import { PATCH_TYPES, type CustomObjectsApi } from './rest/api-groups.ts';
import { isDeepStrictEqual } from 'node:util';
import { API_GROUP, API_VERSION, PLURAL } from '../api/constants.ts';
import type { IstioUpgradeStatus } from '../api/schema.ts';
import { classifyApiError, statusCodeOf } from './api-errors.ts';

export type StatusPatchOperation = { readonly op: 'add'; readonly path: string; readonly value: unknown } | { readonly op: 'remove'; readonly path: string };

/** JSON pointer escaping (RFC 6901). */
function pointer(key: string): string {
  return `/status/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** The whole status, replaced. */
export function wholeStatus(next: IstioUpgradeStatus): StatusPatchOperation[] {
  return [{ op: 'add', path: '/status', value: next }];
}

/** The operations that turn `previous` into `next`, field by field; the whole status when there was none. */
export function statusPatch(previous: IstioUpgradeStatus, next: IstioUpgradeStatus): StatusPatchOperation[] {
  const before = previous as Record<string, unknown>;
  const after = next as Record<string, unknown>;
  if (Object.keys(before).length === 0) return wholeStatus(next);
  const ops: StatusPatchOperation[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const value = after[key];
    if (value === undefined) {
      if (before[key] !== undefined) ops.push({ op: 'remove', path: pointer(key) });
    } else if (!isDeepStrictEqual(before[key], value)) ops.push({ op: 'add', path: pointer(key), value });
  }
  return ops;
}

/** The resourceVersion the write produced, or undefined when nothing changed (no write). */
export async function writeStatus(
  custom: Pick<CustomObjectsApi, 'patchClusterCustomObjectStatus' | 'getClusterCustomObject'>,
  name: string,
  previous: IstioUpgradeStatus,
  next: IstioUpgradeStatus,
): Promise<string | undefined> {
  if (isDeepStrictEqual(previous, next)) return undefined;
  const patch = (body: StatusPatchOperation[]) =>
    custom.patchClusterCustomObjectStatus({ group: API_GROUP, version: API_VERSION, plural: PLURAL, name, body }, { contentType: PATCH_TYPES.json });
  const changes = statusPatch(previous, next);
  let written: unknown;
  try {
    try {
      written = await patch(changes);
    } catch (error) {
      const code = statusCodeOf(error);
      // 422: a path of the field patch does not apply to the stored status (not the status we based it on):
      // replace it whole. 409: re-read (the object may be gone) and retry once; a second conflict backs off.
      if (code === 422 && changes.length > 0 && changes[0]?.path !== '/status') written = await patch(wholeStatus(next));
      else if (code === 409) {
        await custom.getClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL, name });
        written = await patch(changes);
      } else throw error;
    }
  } catch (error) {
    throw classifyApiError(error, `patch istioupgrades/${name}/status`);
  }
  const meta = typeof written === 'object' && written !== null && 'metadata' in written ? written.metadata : undefined;
  const resourceVersion = typeof meta === 'object' && meta !== null && 'resourceVersion' in meta ? meta.resourceVersion : undefined;
  return typeof resourceVersion === 'string' ? resourceVersion : '';
}
