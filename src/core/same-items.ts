// Shallow equality of two lists: the same items, by identity, in the same order. What remembered derivations
// compare, since unchanged cached objects stay the same objects.
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
