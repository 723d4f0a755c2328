// Maintenance metrics (issue 17): every stage records duration, files, bytes and result; a busy table (another
// activity holds its lock, so the attempt is retried) is counted as result="busy", never as "failed".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../src/activities';
import { withTableLock } from '../src/db/table-lock';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { registry } from '../src/metrics/registry';
import { openServices } from '../src/worker';
import { bronzeTable, makeTestEnv } from './helpers/coldtier';

/** A counter's value, or a histogram's observation count, for the series with these labels. */
async function sample(name: string, labels: Record<string, string>): Promise<number> {
  const { type, values } = await registry.getSingleMetric(name)!.get();
  const series = values.filter((v) => (String(type) !== 'histogram' || (v as { metricName?: string }).metricName === `${name}_count`) && Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return series.reduce((a, v) => a + v.value, 0);
}

test('maintenance stages record duration, files, bytes and result; TableBusyError counts as busy, not failed', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_ms${tag}`)] });
  const { settings } = env;
  const table = settings.tables[0]!.name;
  const id = { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table };
  const services = await openServices(settings);
  try {
    const acts = createActivities({ settings, ...services });
    await createBronzeTable(services.ch, table);
    // Three small commits into one day partition: something for compaction to rewrite.
    for (let i = 0; i < 3; i++) {
      await insertTrades(services.ch, table, { rows: 200, exchange: 'kraken', seed: i, eventTimeEnd: new Date(Date.now() - 3_600_000), spreadSeconds: 600 });
      await acts.offloadTable({ table });
    }

    // The table lock held elsewhere: the offload and the compaction are refused with TableBusyError (and retried
    // by Temporal); the metrics say busy.
    // (Offloads and maintenance stages take separate locks: hold both.)
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const holders: Promise<void>[] = [];
    const hold = (purpose: 'offload' | 'maintenance') =>
      new Promise<void>((held) => holders.push(withTableLock(settings.databaseUrl, id, () => (held(), released), purpose)));
    await hold('offload');
    await hold('maintenance');
    await assert.rejects(acts.offloadTable({ table }), { name: 'TableBusyError' });
    await assert.rejects(acts.compactTable({ table, targetFileSizeMb: 128, minInputFiles: 2, dryRun: false }), { name: 'TableBusyError' });
    release();
    await Promise.all(holders);
    assert.equal(await sample('coldtier_offload_runs_total', { table, result: 'busy' }), 1);
    assert.equal(await sample('coldtier_offload_runs_total', { table, result: 'failed' }), 0, 'a busy table is not a failed table');
    assert.equal(await sample('coldtier_maintenance_stage_runs_total', { stage: 'compact', table, result: 'busy' }), 1);
    assert.equal(await sample('coldtier_maintenance_stage_runs_total', { stage: 'compact', table, result: 'failed' }), 0);

    // Every stage, once the table is free: ok, a duration, and what it changed.
    const compact = await acts.compactTable({ table, targetFileSizeMb: 128, minInputFiles: 2, dryRun: false });
    assert.equal(compact.status, 'compacted');
    const expire = await acts.expireTable({ table, snapshotMaxAgeHours: 0, retainLast: 1, dryRun: false });
    await acts.removeOrphans({ table, olderThanHours: 24, dryRun: false });
    const end = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000).toISOString();
    await acts.auditTable({ table, windowStart: new Date(Date.parse(end) - 6 * 3_600_000).toISOString(), windowEnd: end });
    for (const stage of ['compact', 'expire', 'orphans', 'audit']) {
      assert.equal(await sample('coldtier_maintenance_stage_runs_total', { stage, table, result: 'ok' }), 1, `${stage} ok`);
      assert.equal(await sample('coldtier_maintenance_stage_duration_seconds', { stage, table }), 1, `${stage} duration observed`);
    }
    assert.equal(await sample('coldtier_maintenance_files_total', { stage: 'compact', table }), compact.filesRewritten);
    assert.equal(await sample('coldtier_maintenance_bytes_total', { stage: 'compact', table }), compact.bytesBefore);
    assert.equal(await sample('coldtier_maintenance_files_total', { stage: 'expire', table }), expire.filesDeleted);
    assert.ok(expire.filesDeleted > 0);
  } finally {
    await services.close();
  }
});
