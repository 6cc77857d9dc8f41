// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // @kubernetes/client-node models are data-only classes whose docs and examples pass object literals.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
    },
  },
  {
    // The planner is pure: no cluster client, no filesystem, no network, no clock.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@kubernetes/client-node', '@kubernetes/*'], message: 'src/core is pure: cluster I/O belongs in src/kube.' },
            { group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process'], message: 'src/core is pure: no I/O.' },
            { group: ['pino', 'prom-client'], message: 'src/core is pure: no logger or metrics.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/core is pure: configuration is passed in.' },
        { name: 'setTimeout', message: 'src/core is pure: return requeueAfter instead.' },
        { name: 'fetch', message: 'src/core is pure: no I/O.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'src/core takes time as a parameter (now).' },
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'src/core takes time as a parameter (now).' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'src/core is deterministic.' },
        { selector: "CallExpression[callee.property.name='localeCompare']", message: 'src/core orders strings by code units (byCodeUnits): localeCompare depends on the locale and loads ICU data.' },
      ],
    },
  },
  {
    // node:assert's assertions narrow types, so after `assert.equal(x.kind, 'a')` a re-check looks
    // "unnecessary" to the type checker while the test means it.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
