// The differential pruning test with Spark 3.5 + Iceberg Java (1.10) as the reader: the same tables and predicates as
// test/interop/pruning.test.ts, asked through Spark SQL over a table loaded from its metadata file, so Iceberg Java
// plans the scan from the manifests and filters row groups with its metrics and dictionary filters.
// Runs on its own (`npx tsx scripts/run-tests.ts test/spark`, called by .ci/run after npm test): starting Spark and
// answering every predicate takes minutes on two cores.

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/client';
import { tempDir } from '../iceberg/helpers';
import { buildEdgeTables, compare, describe, pythonAnswers, sourceAnswers, type Answer, type EdgeTable } from '../interop/differential';
import { KNOWN_BUGS } from '../interop/known-bugs';

let ch: ClickHouse;
let tables: EdgeTable[];
let truth: Map<string, Answer>;
before(async () => {
  ch = await openClickHouse({ url: `chdb://${tempDir('spark-pruning')}`, username: 'default', password: '', database: 'default' });
  const built = await buildEdgeTables(ch);
  tables = built.tables;
  truth = await sourceAnswers(ch, built.source);
});
after(async () => {
  await ch.close();
});


const SPARK_KNOWN = KNOWN_BUGS.filter((b) => b.engine === 'spark');

it('Spark with Iceberg Java answers every predicate like the source', async () => {
  const answers = await pythonAnswers('spark', tables);
  const mismatches = tables.flatMap((t) => compare('spark', t.name, answers.get(t.name)!, truth, SPARK_KNOWN));
  for (const m of mismatches) console.log(describe(m));
  assert.deepEqual(mismatches.filter((m) => !m.bug).map(describe), [], 'Spark answered differently from the source');
  for (const bug of SPARK_KNOWN) {
    assert.ok(mismatches.some((m) => m.bug === bug), `Spark no longer shows ${bug.issue} on the ${bug.table} table: upstream may have fixed it; check the versions in docs/interop.md and reconsider coldtier's default`);
  }
});
