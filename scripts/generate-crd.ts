// npm run generate: writes the CRD YAML from the zod schema (a test fails when the committed file drifts).
import { writeFileSync } from 'node:fs';
import { renderCrdYaml, CRD_FILE } from './crd-file.ts';

writeFileSync(CRD_FILE, renderCrdYaml());
console.log(`wrote ${CRD_FILE}`);
