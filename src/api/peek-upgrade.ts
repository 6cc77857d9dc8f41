// The few fields of an IstioUpgrade that decide scheduling (name, tags, phase), read from an unvalidated
// object without parsing the whole spec: another upgrade's spec may be invalid, yet it still holds its tags.
import { z } from 'zod';
import { PhaseSchema, type Phase } from './schema.ts';

const PeekSchema = z.object({
  metadata: z.object({ name: z.string(), uid: z.string(), creationTimestamp: z.string().default('') }),
  spec: z.object({ tag: z.string().default('default'), additionalTags: z.array(z.string()).default([]) }).prefault({}),
  status: z.object({ phase: PhaseSchema.optional().catch(undefined) }).prefault({}),
});

export interface UpgradePeek {
  readonly name: string;
  readonly uid: string;
  readonly tags: readonly string[];
  readonly phase: Phase | undefined;
  readonly creationTimestamp: string;
}

export function peekUpgrade(raw: unknown): UpgradePeek | undefined {
  const parsed = PeekSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { metadata, spec, status } = parsed.data;
  return { name: metadata.name, uid: metadata.uid, tags: [spec.tag, ...spec.additionalTags], phase: status.phase, creationTimestamp: metadata.creationTimestamp };
}
