// Import rules (see docs/architecture.md):
// - src/workflows runs in Temporal's deterministic sandbox: it may import only @temporalio/workflow, activity
//   *types* (import type from '../activities' or '../activities/types') and files in src/workflows itself
//   (plus @temporalio/common, which the workflow bundle holds anyway).
// - src/iceberg is a library with one public entry, src/iceberg/index.ts: code in src/ outside it and in bench/
//   imports '../iceberg' (or '../src/iceberg'), never a deeper path. Tests may reach internals (unit tests).
// - No module cycles in src/ (import-x/no-cycle; type-only imports are erased at runtime and not counted).
// test/lint.test.ts plants files and proves each rule.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// A relative import that reaches past src/iceberg/index.ts ('../iceberg/spec/schema', '../../src/iceberg/io').
const icebergInternals = {
  regex: '^(?:\\.{1,2}/)+(?:src/)?iceberg/(?!(?:index)?$)',
  caseSensitive: true,
  message: "src/iceberg is a library: import its public entry ('../iceberg'), not its internals.",
};

// Workflow imports: everything except @temporalio/workflow (and @temporalio/common, the SDK's sandbox-safe shared
// definitions such as defineSearchAttributeKey, which @temporalio/workflow does not re-export), ../activities(/types) (checked below: types only) and
// ./files in src/workflows (without '..' segments that would leave the folder).
const workflowAllowList = {
  regex: '^(?!@temporalio/(?:workflow|common)$|\\.\\./activities(?:/types)?$|\\./(?!(?:.*/)?\\.\\.(?:/|$))).*',
  caseSensitive: true,
  message:
    "Workflow code runs in Temporal's deterministic sandbox: import only @temporalio/workflow, activity types " +
    "(import type from '../activities') and files in src/workflows. Do I/O, logging, metrics and config in activities.",
};
const activityTypesOnly = {
  regex: '^\\.\\./activities(?:/types)?$',
  caseSensitive: true,
  allowTypeImports: true,
  message: 'Workflows import activity types only (import type).',
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.coldtier/**', 'test/.tmp/**', 'bench/.tmp/**', 'bench/results.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        // node:test's test()/describe() return promises the runner awaits itself.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after'] }],
      }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Follow extensionless relative imports ('../iceberg', './offload') into .ts files; dependencies are parsed
      // without type information (import-x drops projectService for them), so the cost stays small.
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${import.meta.dirname}/tsconfig.json` })],
    },
    rules: {
      // ignoreExternal: packages cannot import src/, so walking into node_modules only costs time.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['src/**/*.ts', 'bench/**/*.ts', 'bench/**/*.mjs', 'bench/**/*.js'],
    ignores: ['src/iceberg/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [icebergInternals] }],
    },
  },
  {
    // Overrides the no-restricted-imports above for src/workflows (a later object's rule replaces an earlier one's
    // options); the allow-list refuses src/iceberg too, deep or not.
    files: ['src/workflows/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', { patterns: [workflowAllowList, activityTypesOnly] }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'process', message: 'Workflows cannot read the environment; pass it as input.' },
      ],
    },
  },
);
