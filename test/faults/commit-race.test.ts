// Scenario 4: a commit race. Two worker processes, and the same table triggered twice at once (two offload workflows
// with different ids): one takes the rows, the other finds the work done. Then the race the table lock normally
// prevents — two writers that read the same range and commit it at the same moment — must still end in one commit:
// the watermark compare in the commit transaction refuses the second, which deletes its files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../../src/activities';
import { commitAppend } from '../../src/activities/commit';
import { WatermarkMovedError } from '../../src/activities/errors';
import { cycleUpperBound, rangeWhere, watermarkKey } from '../../src/clickhouse/range';
import { loadTable } from '../../src/iceberg';
import type { OffloadWorkflowResult } from '../../src/activities/types';
import { describeSource, qualified } from '../../src/clickhouse/client';
import { readWatermark } from '../../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { currentSchema, writeDataFiles } from '../../src/iceberg';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { bronzeTable } from '../helpers/coldtier';
import { activityAttempts, census, compare, harness, report } from './helpers';

const ROUNDS = 3;
const ROWS = 50_000;

test('faults 4: the same table triggered twice at once on two workers, and two writers committing one range: one commit, no duplicates', async () => {
  const h = await harness({ tables: (tag) => [bronzeTable(`bronze_race_${tag}`, { batchRows: 10_000, fanOutBatches: 0 })] });
  const table = h.settings.tables[0]!.name;
  const id = h.id(table);
  try {
    await createBronzeTable(h.ch, table);
    await h.startWorker('racer-1');
    await h.startWorker('racer-2');

    // 1. Two workflows for one table at once, round after round.
    let busyRetries = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      await insertTrades(h.ch, table, { rows: ROWS, exchange: 'binance', spreadSeconds: 86_400, seed: round });
      const start = (n: string) => h.client.workflow.start('offloadWorkflow', { taskQueue: h.taskQueue, workflowId: `race-${round}${n}-${h.tag}`, args: [{ tables: [table], heartbeatTimeoutSeconds: 10 }] });
      const runs = await Promise.all([start('a'), start('b')]);
      const results = (await Promise.all(runs.map((r) => r.result()))) as OffloadWorkflowResult[];
      for (const r of results) assert.equal(r.status, 'ok', r.tables[0]!.reason);
      const taken = results.map((r) => r.tables[0]!.rows);
      assert.equal(taken[0]! + taken[1]!, ROWS, `round ${round}: the two runs together took the new rows once (${taken.join(' + ')})`);
      for (const r of runs) busyRetries += ((await activityAttempts(r)).get('offloadTable') ?? 1) - 1;
      const c = await compare(h, table);
      assert.deepEqual(c.cold, c.source, `round ${round}: Iceberg equals the source`);
      assert.equal(c.duplicates, 0);
    }
    const files1 = await census(h, table);
    assert.deepEqual(files1.orphaned, []);
    const c1 = await compare(h, table);
    report({
      scenario: '4 same table triggered twice, two workers',
      faults: `${ROUNDS} rounds of 2 concurrent workflows on 1 table (${busyRetries} table-busy retries)`,
      expected: c1.source.n,
      found: c1.cold.n,
      duplicates: c1.duplicates,
      orphaned: files1.orphaned.length,
    });

    // 2. Two writers past the lock: both read (watermark, top] and commit it at once from the same metadata.
    await insertTrades(h.ch, table, { rows: ROWS, exchange: 'binance', spreadSeconds: 86_400, seed: 99 });
    const cfg = h.settings.tables[0]!;
    const columns = await describeSource(h.ch, table, cfg.source);
    const key = watermarkKey(cfg, columns);
    const base = (await loadTable(h.pool, h.io, id))!;
    const wm = (await readWatermark(h.pool, id))!;
    const src = qualified(h.ch, cfg.source).sql;
    const top = (await cycleUpperBound(h.ch, src, key, wm.values, { bufferSeconds: 0, windowSeconds: 0 }))!;
    const { select } = icebergSchemaFromClickHouse(table, columns, { previous: currentSchema(base.metadata), lastColumnId: base.metadata['last-column-id'] });
    const where = rangeWhere(key, wm.values, top.values);
    const rows = await h.ch.arrow(`SELECT ${select.join(', ')} FROM ${src} WHERE ${where.sql}`, where.params);
    assert.equal(rows.numRows, ROWS);
    const writer = async (name: string) => {
      const files = await writeDataFiles(h.io, base.metadata, rows);
      try {
        await commitAppend(h.pool, h.io, base, {
          id,
          files,
          summary: { 'coldtier.offload-id': `race/${name}` },
          watermark: { columns: key.columns, from: wm.values, to: top.values, ts: new Date(), offloadId: `race/${name}`, rows: rows.numRows },
        });
        return { name, files, err: undefined };
      } catch (err) {
        return { name, files, err };
      }
    };
    const outcomes = await Promise.all([writer('a'), writer('b')]);
    const losers = outcomes.filter((o) => o.err);
    assert.equal(losers.length, 1, 'exactly one writer lost');
    assert.ok(losers[0]!.err instanceof WatermarkMovedError, String(losers[0]!.err));
    for (const f of losers[0]!.files) assert.equal(await h.io.exists(f.file_path), false, 'the loser deleted its files');
    // The loser's retry, as the activity would run it, starts from the new watermark and finds nothing to do.
    const retry = await createActivities({ settings: h.settings, pool: h.pool, ch: h.ch, io: h.io }).offloadTable({ table });
    assert.equal(retry.status, 'noop');
    const c2 = await compare(h, table);
    assert.deepEqual(c2.cold, c2.source);
    assert.equal(c2.duplicates, 0);
    const files2 = await census(h, table);
    assert.deepEqual(files2.orphaned, []);
    assert.deepEqual(files2.missing, []);
    report({
      scenario: '4 two writers commit one range at once',
      faults: 'lock bypassed: 2 writers, same range, same base metadata, concurrent commit',
      expected: c2.source.n,
      found: c2.cold.n,
      duplicates: c2.duplicates,
      orphaned: files2.orphaned.length,
    });
  } finally {
    await h.close();
  }
});
