// The differential pruning test (issue 14): every mapped type with its edge values in many small files, a set of
// predicates per column (=, <, <=, >, >=, BETWEEN, IN, IS NULL, IS NAN, at and around the extremes), answered with
// pruning by PyIceberg, DuckDB (iceberg_scan) and chDB (icebergLocal) and compared with ClickHouse over the source.
// Spark with Iceberg Java asks the same questions in test/spark/pruning-spark.test.ts (its own npm script).
// On the default table every answer must be exact; on the opted-in table (uuid bounds and float dictionaries back on)
// the known upstream bugs are expected, and one that no longer shows fails the test so the default can be revisited.

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/client';
import { tempDir } from '../iceberg/helpers';
import { buildEdgeTables, chdbAnswers, compare, describe, PREDICATES, pythonAnswers, sourceAnswers, type Answer, type EdgeTable, type Mismatch } from './differential';
import { KNOWN_BUGS as KNOWN } from './known-bugs';

let ch: ClickHouse;
let tables: EdgeTable[];
let truth: Map<string, Answer>;
before(async () => {
  ch = await openClickHouse({ url: `chdb://${tempDir('pruning')}`, username: 'default', password: '', database: 'default' });
  const built = await buildEdgeTables(ch);
  tables = built.tables;
  truth = await sourceAnswers(ch, built.source);
});
after(async () => {
  await ch.close();
});


function check(mismatches: Mismatch[], engine: string): void {
  const unexpected = mismatches.filter((m) => !m.bug);
  assert.deepEqual(unexpected.map(describe), [], `${engine} answered ${unexpected.length} predicates differently from the source`);
  for (const bug of KNOWN.filter((b) => b.engine === engine)) {
    assert.ok(mismatches.some((m) => m.bug === bug), `${engine} no longer shows ${bug.issue} on the ${bug.table} table: upstream may have fixed it; check the versions in docs/interop.md and reconsider coldtier's default`);
  }
}

it('PyIceberg answers every predicate like the source, pruning files', async () => {
  const answers = await pythonAnswers('pyiceberg', tables);
  const mismatches = tables.flatMap((t) => compare('pyiceberg', t.name, answers.get(t.name)!, truth, KNOWN));
  for (const m of mismatches) console.log(describe(m));
  check(mismatches, 'pyiceberg');
  // Pruning really happens: most equality predicates plan fewer files than the table has.
  const eq = PREDICATES.filter((p) => p.op === '=');
  const pruned = eq.filter((p) => (answers.get('default')!.get(p.id)![2] ?? Infinity) < tables[0]!.files);
  assert.ok(pruned.length > eq.length / 2, `PyIceberg pruned files for ${pruned.length} of ${eq.length} equality predicates`);
});

it('DuckDB answers every predicate like the source', async () => {
  const answers = await pythonAnswers('duckdb', tables);
  const mismatches = tables.flatMap((t) => compare('duckdb', t.name, answers.get(t.name)!, truth, KNOWN));
  for (const m of mismatches) console.log(describe(m));
  check(mismatches, 'duckdb');
});

it('chDB (icebergLocal) answers every predicate like the source', async () => {
  const mismatches: Mismatch[] = [];
  for (const t of tables) mismatches.push(...compare('chdb', t.name, await chdbAnswers(ch, t), truth, KNOWN));
  for (const m of mismatches) console.log(describe(m));
  check(mismatches, 'chdb');
});
