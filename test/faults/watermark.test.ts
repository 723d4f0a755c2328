// Scenario 5: the watermark corrupted by hand. Moved forward (a gap): the audit reports missing_data naming the hour
// and `backfillWorkflow` with reason repair fills it exactly. Moved backward (an overlap): the next offload reads
// above the highest committed key and adds no duplicate. Deleted: the offload must not start over from the beginning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import type { BackfillTableResult, MaintenanceWorkflowResult, OffloadWorkflowResult } from '../../src/activities/types';
import { readWatermark, setWatermark } from '../../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { createWorker } from '../../src/worker';
import { bronzeTable } from '../helpers/coldtier';
import { census, compare, harness, report } from './helpers';

const HOUR = 3_600_000;

test('faults 5: a watermark moved forward is found by the audit and repaired; moved backward or deleted it adds no duplicate', async () => {
  const h = await harness({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_wm_${tag}`)] });
  const table = h.settings.tables[0]!.name;
  const id = h.id(table);
  const cols = ['ingested_at', 'sequence'];
  const run = <T>(type: string, name: string, args: object) =>
    h.client.workflow.execute(type, { taskQueue: h.taskQueue, workflowId: `${name}-${h.tag}-${Date.now()}`, args: [args] }) as Promise<T>;
  const offload = async () => ((await run<OffloadWorkflowResult>('offloadWorkflow', 'wm-offload', { tables: [table] })).tables[0]!);
  const top = async () => {
    const [r] = await h.ch.json<{ ts: string; seq: string }>(`SELECT toString(max(ingested_at)) AS ts, toString(max(sequence)) AS seq FROM ${table}`);
    return [r!.ts, r!.seq];
  };
  const worker = await createWorker(h.settings, { services: { pool: h.pool, ch: h.ch, io: h.io, close: async () => undefined } });
  try {
    await worker.runUntil(async () => {
      await createBronzeTable(h.ch, table);
      await insertTrades(h.ch, table, { rows: 2_000, exchange: 'kraken', spreadSeconds: 40 * 3600, seed: 1, eventTimeEnd: new Date(Date.now() - 3 * HOUR) });
      assert.equal((await offload()).rows, 2_000);

      // 1. Forward: 400 rows of one past hour are skipped by a watermark moved past them by hand.
      const gapHour = Math.floor((Date.now() - 20 * HOUR) / HOUR) * HOUR;
      await insertTrades(h.ch, table, { rows: 400, exchange: 'kraken', seed: 2, eventTimeEnd: new Date(gapHour + HOUR - 1000), spreadSeconds: 3000 });
      await setWatermark(h.pool, id, cols, await top(), new Date());
      await insertTrades(h.ch, table, { rows: 1_000, exchange: 'kraken', seed: 3, eventTimeEnd: new Date(Date.now() - 2 * HOUR), spreadSeconds: 3600 });
      assert.equal((await offload()).rows, 1_000, 'the offload continues from the corrupted watermark');
      const gap = await compare(h, table);
      assert.equal(Number(gap.source.n) - Number(gap.cold.n), 400);

      const windowEnd = new Date(Math.ceil(Date.now() / HOUR) * HOUR).toISOString();
      const windowStart = new Date(Date.parse(windowEnd) - 48 * HOUR).toISOString();
      const audit = { tables: [table], stages: ['audit'], auditWindowHours: 48, auditWindowEnd: windowEnd };
      await assert.rejects(run('maintenanceWorkflow', 'wm-audit', audit), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        const msg = String(err.cause?.message);
        assert.match(msg, new RegExp(`${table}: missing_data`));
        const hour = new RegExp(`${new Date(gapHour).toISOString().replace(/\./g, '\\.')} \\((\\d+)/(\\d+)\\)`).exec(msg);
        assert.ok(hour, `the audit names the hour: ${msg}`);
        assert.equal(Number(hour[2]) - Number(hour[1]), 400, 'the 400 skipped rows are missing in that hour');
        assert.match(msg, new RegExp(`coldtier repair --table ${table} --window ${windowStart}/${windowEnd}`));
        return true;
      });
      const fixed = await run<BackfillTableResult>('backfillWorkflow', 'wm-repair', { table, from: windowStart, to: windowEnd, reason: 'repair' });
      assert.equal(fixed.rowsAdded, 400);
      assert.deepEqual(fixed.repairedHours.map((x) => x.hour), [new Date(gapHour).toISOString()]);
      const ok = await run<MaintenanceWorkflowResult>('maintenanceWorkflow', 'wm-audit-ok', audit);
      assert.equal(ok.tables[0]!.audit!.status, 'ok');
      const repaired = await compare(h, table);
      assert.deepEqual(repaired.cold, repaired.source);
      const f1 = await census(h, table);
      report({ scenario: '5 watermark moved forward', faults: 'watermark set past 400 unoffloaded rows; audit → missing_data → repair', expected: repaired.source.n, found: repaired.cold.n, duplicates: repaired.duplicates, orphaned: f1.orphaned.length });

      // 2. Backward: the watermark set back to the epoch; the next offload takes only the 700 new rows.
      const committed = (await readWatermark(h.pool, id))!;
      await setWatermark(h.pool, id, cols, ['1970-01-01 00:00:00.000000', '0'], new Date(0));
      await insertTrades(h.ch, table, { rows: 700, exchange: 'kraken', seed: 4, eventTimeEnd: new Date(Date.now() - HOUR) });
      const back = await offload();
      assert.equal(back.rows, 700, 'only the new rows: the read starts above committed_to');
      assert.deepEqual(back.watermarkFrom, ['1970-01-01 00:00:00.000000', '0'], 'the commit moved on from the stored (corrupted) value');
      assert.deepEqual((await readWatermark(h.pool, id))!.committedTo, await top());
      assert.notDeepEqual(committed.values, await top());
      const overlap = await compare(h, table);
      assert.deepEqual(overlap.cold, overlap.source);
      assert.equal(overlap.duplicates, 0);
      const f2 = await census(h, table);
      report({ scenario: '5 watermark moved backward', faults: 'watermark set back to the epoch, then an offload', expected: overlap.source.n, found: overlap.cold.n, duplicates: overlap.duplicates, orphaned: f2.orphaned.length });

      // 2b. Backward, both columns: watermark and committed_to set back by hand; the snapshot summaries still say
      // which ranges are committed, so the next offload again takes only the new rows.
      await h.pool.query(`UPDATE coldtier_watermarks SET watermark_values = $4::jsonb, committed_to = $4::jsonb WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3`, [id.catalog, id.namespace, id.table, JSON.stringify(['1970-01-01 00:00:00.000000', '0'])]);
      await insertTrades(h.ch, table, { rows: 200, exchange: 'kraken', seed: 8, eventTimeEnd: new Date(Date.now() - HOUR) });
      assert.equal((await offload()).rows, 200, 'only the new rows: the read starts above the newest snapshot\'s coldtier.watermark-to');
      const both = await compare(h, table);
      assert.deepEqual(both.cold, both.source);
      assert.equal(both.duplicates, 0);
      const f2b = await census(h, table);
      report({ scenario: '5 watermark and committed_to moved backward', faults: 'both watermark columns set back to the epoch, then an offload', expected: both.source.n, found: both.cold.n, duplicates: both.duplicates, orphaned: f2b.orphaned.length });

      // 3. Deleted: the watermark row is gone; the table's snapshots still say what they hold.
      await h.pool.query('DELETE FROM coldtier_watermarks WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3', [id.catalog, id.namespace, id.table]);
      await insertTrades(h.ch, table, { rows: 300, exchange: 'kraken', seed: 5, eventTimeEnd: new Date(Date.now() - HOUR) });
      const again = await offload();
      assert.equal(again.rows, 300, 'only the new rows: the read starts above the highest key the snapshots recorded');
      const restored = await readWatermark(h.pool, id);
      assert.deepEqual(restored?.values, await top(), 'the commit recreated the watermark');
      const deleted = await compare(h, table);
      assert.deepEqual(deleted.cold, deleted.source);
      assert.equal(deleted.duplicates, 0);
      const f3 = await census(h, table);
      report({ scenario: '5 watermark row deleted', faults: 'coldtier_watermarks row deleted, then an offload', expected: deleted.source.n, found: deleted.cold.n, duplicates: deleted.duplicates, orphaned: f3.orphaned.length });

      // 4. Deleted when no retained snapshot records a range (the newest is a repair, older ones expired): refused.
      const gap2 = Math.floor((Date.now() - 10 * HOUR) / HOUR) * HOUR;
      await insertTrades(h.ch, table, { rows: 100, exchange: 'kraken', seed: 6, eventTimeEnd: new Date(gap2 + HOUR - 1000), spreadSeconds: 3000 });
      await setWatermark(h.pool, id, cols, await top(), new Date());
      assert.equal((await run<BackfillTableResult>('backfillWorkflow', 'wm-repair-2', { table, from: windowStart, to: windowEnd, reason: 'repair' })).rowsAdded, 100);
      await run('maintenanceWorkflow', 'wm-expire', { tables: [table], stages: ['expire'], snapshotMaxAgeHours: 0, snapshotRetainLast: 1 });
      await h.pool.query('DELETE FROM coldtier_watermarks WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3', [id.catalog, id.namespace, id.table]);
      await insertTrades(h.ch, table, { rows: 10, exchange: 'kraken', seed: 7 });
      // Its only table failed, so the run fails (non-retryable): the message names the table and the cause.
      await assert.rejects(offload(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(String(err.cause?.message), new RegExp(`offload of ${table}: the Iceberg table already holds 4700 rows but its watermark \\(coldtier_watermarks\\) is missing`));
        return true;
      });
      const unchanged = await compare(h, table);
      assert.equal(unchanged.cold.n, '4700', 'nothing was written');
      const f4 = await census(h, table);
      report({ scenario: '5 watermark row deleted, range unrecorded', faults: 'watermark row deleted after repair + expire (retain 1); offload refused, non-retryable', expected: 4700, found: unchanged.cold.n, duplicates: unchanged.duplicates, orphaned: f4.orphaned.length });
    });
  } finally {
    await h.close();
  }
});
