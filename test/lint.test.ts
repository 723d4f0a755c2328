// The import rules of eslint.config.js, proved on planted files: the workflow allow-list, the Iceberg library
// boundary and the module-cycle check. Files are planted with unique names inside the real folders (so the config's
// globs and the tsconfig include apply), linted through ESLint's API, and removed again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const id = `${process.pid}-${randomBytes(4).toString('hex')}`;

/** Source lines of `file` that a given rule reports, e.g. { 'no-restricted-imports': [2, 3] }. */
function reportedLines(result: ESLint.LintResult, ruleId: string): number[] {
  return result.messages.filter((m) => m.ruleId === ruleId).map((m) => m.line);
}

function failMessage(result: ESLint.LintResult): string {
  return result.messages.map((m) => `${m.line}:${m.column} ${m.ruleId ?? '(fatal)'} ${m.message}`).join('\n');
}

test('lint refuses forbidden imports in workflows, deep Iceberg imports and module cycles', async () => {
  const planted = {
    // One forbidden import a line (lines 1..6), each of which must be reported on its own.
    workflowBad: join(root, 'src/workflows', `lint-probe-bad-${id}.ts`),
    workflowGood: join(root, 'src/workflows', `lint-probe-good-${id}.ts`),
    deepIceberg: join(root, 'src', `lint-probe-deep-${id}.ts`),
    entryIceberg: join(root, 'src', `lint-probe-entry-${id}.ts`),
    benchDeep: join(root, 'bench', `lint-probe-bench-${id}.ts`),
    cycleA: join(root, 'src', `lint-probe-cycle-a-${id}.ts`),
    cycleB: join(root, 'src', `lint-probe-cycle-b-${id}.ts`),
  };
  const sources: Record<keyof typeof planted, string> = {
    workflowBad: [
      "import { getWatermark } from '../db/watermarks';",
      "import { registry } from '../metrics/registry';",
      "import { Worker } from '@temporalio/worker';",
      "import pino from 'pino';",
      "import { readFileSync } from 'node:fs';",
      "import { activities } from '../activities';",
      'export const probe = [getWatermark, registry, Worker, pino, readFileSync, activities];',
      '',
    ].join('\n'),
    workflowGood: [
      "import { proxyActivities, sleep } from '@temporalio/workflow';",
      "import type { Activities } from '../activities';",
      "import type { PlannedTable } from '../activities/types';",
      "import { layerWaves } from './plan';",
      "import { defineSearchAttributeKey } from '@temporalio/common';",
      "export const key = defineSearchAttributeKey('Probe', 'KEYWORD');",
      'export async function probe(tables: PlannedTable[]): Promise<number> {',
      "  const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });",
      '  await sleep(1);',
      '  return layerWaves(tables).length + Object.keys(acts).length;',
      '}',
      '',
    ].join('\n'),
    deepIceberg: "import type { Schema } from './iceberg/spec/schema';\nexport type Probe = Schema;\n",
    entryIceberg: "import * as iceberg from './iceberg';\nexport const probe = iceberg;\n",
    benchDeep: "import * as spec from '../src/iceberg/spec/schema';\nimport * as iceberg from '../src/iceberg';\nexport const probe = [spec, iceberg];\n",
    cycleA: `import { b } from './lint-probe-cycle-b-${id}';\nexport const a = (): number => b() + 1;\n`,
    cycleB: `import { a } from './lint-probe-cycle-a-${id}';\nexport const b = (): number => (Math.random() > 2 ? a() : 0);\n`,
  };
  try {
    for (const [key, path] of Object.entries(planted)) writeFileSync(path, sources[key as keyof typeof planted]);
    const eslint = new ESLint({ cwd: root });
    const results = await eslint.lintFiles(Object.values(planted));
    const byPath = new Map(results.map((r) => [r.filePath, r]));
    const result = (key: keyof typeof planted): ESLint.LintResult => {
      const r = byPath.get(planted[key]);
      assert.ok(r, `no lint result for ${planted[key]}`);
      for (const m of r.messages) assert.ok(m.ruleId, `fatal lint message in ${key}: ${m.message}`);
      return r;
    };

    // Workflows: the database, metrics, the worker SDK, the logger, a Node builtin and a value import of the
    // activities are each refused on their own line.
    assert.deepEqual(
      [...new Set(reportedLines(result('workflowBad'), 'no-restricted-imports'))],
      [1, 2, 3, 4, 5, 6],
      failMessage(result('workflowBad')),
    );
    assert.equal(result('workflowGood').messages.length, 0, failMessage(result('workflowGood')));

    // The Iceberg library has one public entry, from src/ and from bench/.
    assert.deepEqual(reportedLines(result('deepIceberg'), 'no-restricted-imports'), [1], failMessage(result('deepIceberg')));
    assert.deepEqual(reportedLines(result('entryIceberg'), 'no-restricted-imports'), [], failMessage(result('entryIceberg')));
    assert.deepEqual(reportedLines(result('benchDeep'), 'no-restricted-imports'), [1], failMessage(result('benchDeep')));

    // Two modules importing each other.
    assert.deepEqual(reportedLines(result('cycleA'), 'import-x/no-cycle'), [1], failMessage(result('cycleA')));
    assert.deepEqual(reportedLines(result('cycleB'), 'import-x/no-cycle'), [1], failMessage(result('cycleB')));
  } finally {
    for (const path of Object.values(planted)) rmSync(path, { force: true });
  }
});
