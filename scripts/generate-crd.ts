// npm run generate: writes the CRD YAML from the zod schema (a test fails when the committed file drifts).
import { writeFileSync } from 'node:fs';
import { renderCrdYaml, CRD_FILE, DEPLOY_CRD_FILE } from './crd-file.ts';

for (const file of [CRD_FILE, DEPLOY_CRD_FILE]) {
  writeFileSync(file, renderCrdYaml());
  console.log(`wrote ${file}`);
}
