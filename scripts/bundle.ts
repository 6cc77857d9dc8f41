// npm run build: the production build. One ESM file, dist/main.js, holds the operator and the code of its
// runtime dependencies that it uses, stripped of comments and whitespace (0.8 MB): loaded unbundled, the
// dependencies' sources stay in memory whole. Types are checked by `npm run typecheck` (tsc), not here.
import { build, type Plugin } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * zod's `z` namespace re-exports every locale's messages (~300 KB, a quarter of the bundle) though only the default,
 * English, is ever configured: the index of locales keeps English alone.
 */
const englishZodMessagesOnly: Plugin = {
  name: 'english-zod-messages-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({ contents: "export { default as en } from './en.js';", resolveDir: dirname(args.path), loader: 'js' }));
  },
};

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
    plugins: [englishZodMessagesOnly],
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle(process.argv[2]);
