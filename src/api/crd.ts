// Builds the CustomResourceDefinition from the zod schema. The API server only accepts structural schemas:
// every node typed, no additionalProperties beside properties, defaults inside the schema. zod's JSON Schema
// output is close; this module turns it into exactly that.
import { z } from 'zod';
import {
  API_GROUP,
  API_VERSION,
  KIND,
  PLURAL,
  SHORT_NAME,
  SINGULAR,
} from './constants.ts';
import { IstioUpgradeSpecSchema, IstioUpgradeStatusSchema } from './schema.ts';

export type JsonSchemaNode = Record<string, unknown>;

const DROPPED_KEYS = new Set(['$schema', 'id', '$id']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rewrites one zod JSON Schema node (recursively) into a structural OpenAPI v3 node. */
export function toStructural(node: unknown): JsonSchemaNode {
  if (!isRecord(node)) throw new Error(`schema node is not an object: ${JSON.stringify(node)}`);
  const out: JsonSchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (key === 'properties' && isRecord(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toStructural(v)]));
    } else if (key === 'items') {
      out.items = toStructural(value);
    } else if (key === 'additionalProperties') {
      // `false` beside properties is forbidden, and `{}` means "anything", which preserve-unknown-fields says.
      if (isRecord(value) && Object.keys(value).length > 0) out.additionalProperties = toStructural(value);
    } else {
      out[key] = value;
    }
  }
  // Integers that are safe-integer-bounded by zod need no bounds in the CRD; keep only meaningful ones.
  if (out.type === 'integer') {
    if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  }
  return out;
}

function openApi(schema: z.ZodType): JsonSchemaNode {
  return toStructural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }));
}

export const CRD_NAME = `${PLURAL}.${API_GROUP}`;

export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/name': 'istio-upgrade-operator', 'app.kubernetes.io/part-of': 'istio-upgrade-operator' },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [SHORT_NAME],
        categories: ['istio-io'],
      },
      scope: 'Cluster',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'From', type: 'string', jsonPath: '.status.fromRevision' },
            { name: 'To', type: 'string', jsonPath: '.status.toRevision' },
            { name: 'Wave', type: 'string', jsonPath: '.status.currentWave' },
            { name: 'Upgraded', type: 'string', jsonPath: '.status.upgraded' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'IstioUpgrade carries a mesh from one Istio revision to another by the canary procedure.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: openApi(IstioUpgradeSpecSchema),
                status: openApi(IstioUpgradeStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}
