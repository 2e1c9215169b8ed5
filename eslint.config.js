// ESLint flat config. TypeScript under src/, test/ and bench/ gets the type-checked rules; the few plain
// JavaScript files (scripts/, this file) get the recommended set with Node's globals.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Node's globals, listed here rather than taken from the `globals` package, which is not a dependency of ours.
const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'Buffer',
    'URL',
    'URLSearchParams',
    'clearImmediate',
    'clearInterval',
    'clearTimeout',
    'console',
    'globalThis',
    'performance',
    'process',
    'queueMicrotask',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'data/', '.bench/']),

  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
  },

  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': [
        'error',
        {
          'ts-ignore': true,
          'ts-nocheck': true,
          'ts-check': false,
          // An expected error is allowed when it says why (a test that a bad call does not compile).
          'ts-expect-error': 'allow-with-description',
          minimumDescriptionLength: 10,
        },
      ],
      // `for (;;)` and `while (true)` are the plain way to write a matching loop that breaks from inside.
      'no-constant-condition': ['error', { checkLoops: false }],
      // Unused arguments keep a callback's or an interface's shape; a leading underscore marks them.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Numbers in template literals are the normal case in a venue whose prices and quantities are integers.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: false, allowAny: false, allowRegExp: false },
      ],
    },
  },

  {
    // Benchmarks alias timer functions (`const hr = process.hrtime.bigint`) to keep property lookups out of
    // the timed loops; those functions do not use `this`.
    files: ['bench/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },

  {
    files: ['test/**/*.ts'],
    rules: {
      // node:test's describe() and it() return promises that the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
    },
  },
);
