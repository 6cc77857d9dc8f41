// One copy of the short strings that thousands of cached objects repeat (namespaces, kinds, images, container
// names, label values): JSON.parse makes a new string for each occurrence, and at 5,000 workloads the copies
// were a measurable part of the heap (issue 14). Bounded: past MAX_INTERNED distinct strings the table starts
// over, so unique values (names, uids) cannot grow it without end.
const MAX_INTERNED = 20_000;
let table = new Map<string, string>();

export function intern(value: string): string {
  const known = table.get(value);
  if (known !== undefined) return known;
  if (table.size >= MAX_INTERNED) table = new Map();
  table.set(value, value);
  return value;
}

export function internOptional(value: string | undefined): string | undefined {
  return value === undefined ? undefined : intern(value);
}

/** The same labels or annotations with their values interned (keys already come interned from JSON.parse). */
export function internValues(record: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (record === undefined) return out;
  for (const [key, value] of Object.entries(record)) out[key] = intern(value);
  return out;
}
