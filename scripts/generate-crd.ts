// npm run generate: writes the CRD YAML and the API reference from the zod schema (tests fail on drift).
import { writeFileSync } from 'node:fs';
import { API_REFERENCE_FILE, renderApiReference } from './api-reference.ts';
import { renderCrdYaml, CRD_FILE, DEPLOY_CRD_FILE } from './crd-file.ts';

for (const file of [CRD_FILE, DEPLOY_CRD_FILE]) {
  writeFileSync(file, renderCrdYaml());
  console.log(`wrote ${file}`);
}
writeFileSync(API_REFERENCE_FILE, renderApiReference());
console.log(`wrote ${API_REFERENCE_FILE}`);
