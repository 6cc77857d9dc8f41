// npm run build: the production build. One ESM file, dist/main.js, holds the operator and the code of its
// runtime dependencies that it uses: @kubernetes/client-node alone loads 25 MB of generated sources, which Node
// keeps in memory; bundled and stripped of comments and whitespace the whole operator is under 5 MB (idle RSS
// 188 MB -> 131 MB at 100 workloads, bench/results/cluster-20x5-c5-smoke-*.json). Types are checked by
// `npm run typecheck` (tsc), not here.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function bundle(outfile = fileURLToPath(new URL('../dist/main.js', import.meta.url))): Promise<void> {
  // esbuild writes the licence file only when there are licences to list: never leave an older build's behind.
  rmSync(`${outfile}.LEGAL.txt`, { force: true });
  await build({
    entryPoints: [fileURLToPath(new URL('../src/main.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Identifiers kept: stack traces and logged error names stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    // Licences of the bundled packages go next to it (dist/main.js.LEGAL.txt), not into the heap.
    legalComments: 'external',
    // CommonJS dependencies call require(); an ESM bundle has none of its own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle(process.argv[2]);
