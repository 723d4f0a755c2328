import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WorkflowFailedError } from '@temporalio/client';
import { createActivities } from '../src/activities';
import type { BackfillTableResult, MaintenanceWorkflowResult } from '../src/activities/types';
import { loadTable } from '../src/iceberg';
import { setWatermark, readWatermark } from '../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { listDataFiles, readManifestList } from '../src/iceberg';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, fingerprint, icebergFunction, makeTestEnv } from './helpers/coldtier';

const HOUR = 3_600_000;

test('maintenance: compaction keeps every row and a concurrent append, expiry keeps 3 snapshots, orphans, audit finds a gap, repair closes it', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_m${tag}`)] });
  const { settings } = env;
  const table = settings.tables[0]!.name;
  const id = { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table };
  const services = await openServices(settings);
  const { ch, pool, io } = services;
  const acts = createActivities({ settings, ...services });
  const ice = icebergFunction(env, table);
  const client = await connectClient(settings.temporal);
  let duringCompaction: (() => Promise<void>) | undefined;
  const maintain = async (args: object) =>
    (await client.workflow.execute('maintenanceWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `maint-${env.tag}-${Date.now()}`, args: [args] })) as MaintenanceWorkflowResult;
  try {
    await createBronzeTable(ch, table);
    // 30 small offload cycles over three days of event time: ~90 small files.
    for (let i = 0; i < 30; i++) {
      await insertTrades(ch, table, { rows: 200, exchange: 'binance', spreadSeconds: 3 * 86_400, seed: i, eventTimeEnd: new Date(Date.now() - 6 * HOUR) });
      await acts.offloadTable({ table });
    }
    const before = (await loadTable(pool, io, id))!;
    const filesBefore = (await listDataFiles(io, before.metadata)).length;
    assert.ok(filesBefore >= 60, `small files before compaction: ${filesBefore}`);
    const source = await fingerprint(ch, table);
    assert.deepEqual(await fingerprint(ch, ice), source);

    const worker = await createWorker(settings, { services, hooks: { beforeCompactCommit: async () => duringCompaction?.() } });
    await worker.runUntil(async () => {
      // 1. Compaction, with an offload committing between planning and commit.
      duringCompaction = async () => {
        await insertTrades(ch, table, { rows: 500, exchange: 'binance', seed: 99 });
        await acts.offloadTable({ table });
      };
      const compacted = await maintain({ stages: ['compact'] });
      duringCompaction = undefined;
      const c = compacted.tables[0]!.compact!;
      assert.equal(c.status, 'compacted');
      assert.equal(c.encoder, 'clickhouse', 'the race runs on the ClickHouse compaction path');
      assert.equal(c.filesBefore, filesBefore);
      const after = (await loadTable(pool, io, id))!;
      const live = await listDataFiles(io, after.metadata);
      const perPartition = new Map<string, number>();
      for (const f of live) perPartition.set(JSON.stringify(f.partition), (perPartition.get(JSON.stringify(f.partition)) ?? 0) + 1);
      for (const [p, n] of perPartition) assert.ok(n <= 2, `partition ${p} has ${n} files after compaction (1 compacted + at most 1 from the concurrent append)`);
      const replace = after.metadata.snapshots.find((s) => s['snapshot-id'].toString() === c.snapshotId)!;
      assert.equal(replace.summary!.operation, 'replace');
      assert.equal(replace.summary!['deleted-data-files'], String(c.filesRewritten));
      assert.equal(replace.summary!['total-records'], '6500', 'totals carry the concurrent append (6000 + 500)');
      const all = await fingerprint(ch, ice);
      assert.equal(all.n, '6500');
      assert.equal(all.keys, '6500');
      assert.deepEqual(all, await fingerprint(ch, table), 'compaction lost nothing, and the concurrent append is there');

      // Dry run: a plan, no writes.
      const snapshotsNow = after.metadata.snapshots.length;
      const dry = await maintain({ stages: ['compact', 'expire'], dryRun: true, snapshotMaxAgeHours: 0 });
      assert.equal(dry.tables[0]!.compact!.status, 'nothing-to-do');
      assert.ok(dry.tables[0]!.expire!.snapshotsExpired > 0);
      assert.equal((await loadTable(pool, io, id))!.metadata.snapshots.length, snapshotsNow);

      // 2. Expire with age 0 and retain 3: exactly 3 snapshots; their files exist; files only older ones used are gone.
      const oldOnly = new Set<string>();
      const m = (await loadTable(pool, io, id))!.metadata;
      const newest3 = [...m.snapshots].sort((a, b) => b['timestamp-ms'] - a['timestamp-ms']).slice(0, 3);
      const keep = new Set<string>();
      for (const s of newest3) {
        keep.add(s['manifest-list']);
        for (const mf of await readManifestList(io, s)) keep.add(mf.manifest_path);
        for (const f of await listDataFiles(io, m, s['snapshot-id'])) keep.add(f.file_path);
      }
      for (const s of m.snapshots) {
        if (newest3.includes(s)) continue;
        if (!keep.has(s['manifest-list'])) oldOnly.add(s['manifest-list']);
        for (const f of await listDataFiles(io, m, s['snapshot-id'])) if (!keep.has(f.file_path)) oldOnly.add(f.file_path);
      }
      assert.ok(oldOnly.size > 0);
      const expired = await maintain({ stages: ['expire'], snapshotMaxAgeHours: 0, snapshotRetainLast: 3 });
      const e = expired.tables[0]!.expire!;
      assert.equal(e.snapshotsAfter, 3);
      const kept = (await loadTable(pool, io, id))!.metadata;
      assert.equal(kept.snapshots.length, 3);
      for (const uri of keep) assert.ok(existsSync(uri.replace('file://', '')), `retained file exists: ${uri}`);
      for (const uri of oldOnly) assert.ok(!existsSync(uri.replace('file://', '')), `file only expired snapshots used is gone: ${uri}`);
      const oldest = [...kept.snapshots].sort((a, b) => a['timestamp-ms'] - b['timestamp-ms'])[0]!;
      const [tt] = await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${ice} SETTINGS iceberg_snapshot_id = ${oldest['snapshot-id']}`);
      assert.equal(tt!.n, oldest.summary!['total-records'], 'time travel to a retained snapshot reads');
      assert.deepEqual(await fingerprint(ch, ice), await fingerprint(ch, table));

      // 3. Orphans: removed only once older than the minimum age; an in-flight (young) file stays.
      const dataDir = `${kept.location.replace('file://', '')}/data`;
      const oldOrphan = `${dataDir}/planted-old.parquet`;
      const youngOrphan = `${dataDir}/planted-in-flight.parquet`;
      mkdirSync(dirname(oldOrphan), { recursive: true });
      writeFileSync(oldOrphan, 'orphan');
      writeFileSync(youngOrphan, 'in flight');
      const t100h = new Date(Date.now() - 100 * HOUR);
      utimesSync(oldOrphan, t100h, t100h);
      const orphans = await maintain({ stages: ['orphans'], orphanMinAgeHours: 72 });
      assert.ok(orphans.tables[0]!.orphans!.filesDeleted >= 1);
      assert.ok(!existsSync(oldOrphan), 'old orphan removed');
      assert.ok(existsSync(youngOrphan), 'young file kept');
      assert.deepEqual(await fingerprint(ch, ice), await fingerprint(ch, table), 'no live file was removed');
      await assert.rejects(maintain({ stages: ['orphans'], orphanMinAgeHours: 12 }), (err: WorkflowFailedError) => /orphan_min_age_hours 12 is under 24/.test(String(err.cause?.message)));

      // 4. A gap on purpose: rows in one hour never offloaded (the watermark is moved past them by hand).
      const gapHour = Math.floor((Date.now() - 30 * HOUR) / HOUR) * HOUR;
      await insertTrades(ch, table, { rows: 400, exchange: 'binance', seed: 123, eventTimeEnd: new Date(gapHour + HOUR - 1000), spreadSeconds: 3000 });
      const [top] = await ch.json<{ ts: string; seq: string }>(`SELECT toString(max(ingested_at)) AS ts, toString(max(sequence)) AS seq FROM ${table}`);
      await setWatermark(pool, id, ['ingested_at', 'sequence'], [top!.ts, top!.seq], new Date());
      const windowEnd = new Date(Math.ceil(Date.now() / HOUR) * HOUR).toISOString();
      const audit = { stages: ['audit'], auditWindowHours: 96, auditWindowEnd: windowEnd };
      await assert.rejects(maintain(audit), (err: WorkflowFailedError) => {
        const msg = String(err.cause?.message);
        assert.match(msg, /missing_data/);
        assert.match(msg, new RegExp(new Date(gapHour).toISOString().replace(/[.]/g, '\\.')));
        return true;
      });
      const logged = await pool.query<{ status: string; ch_row_count: string; iceberg_row_count: string; notes: string }>(
        'SELECT status, ch_row_count, iceberg_row_count, notes FROM maintenance_audit_log WHERE iceberg_table = $1 ORDER BY id DESC LIMIT 1',
        [`cold.${table}`],
      );
      assert.equal(logged.rows[0]!.status, 'missing_data');
      assert.equal(Number(logged.rows[0]!.ch_row_count) - Number(logged.rows[0]!.iceberg_row_count), 400);
      assert.match(logged.rows[0]!.notes, /coldtier repair --table/);

      // 5. repair closes the gap exactly; running it again adds nothing; the next audit is ok.
      const repair = (from: string, to: string) =>
        client.workflow.execute('backfillWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `repair-${env.tag}-${Date.now()}`, args: [{ table, from, to, reason: 'repair' }] }) as Promise<BackfillTableResult>;
      const windowStart = new Date(Date.parse(windowEnd) - 96 * HOUR).toISOString();
      const fixed = await repair(windowStart, windowEnd);
      assert.equal(fixed.rowsAdded, 400);
      assert.deepEqual(fixed.repairedHours.map((h) => h.hour), [new Date(gapHour).toISOString()]);
      assert.equal((await repair(windowStart, windowEnd)).rowsAdded, 0, 'repair is idempotent');
      const ok = await maintain(audit);
      assert.equal(ok.tables[0]!.audit!.status, 'ok');
      const final = await fingerprint(ch, ice);
      assert.equal(final.keys, final.n, 'no duplicates');
      assert.deepEqual(final, await fingerprint(ch, table));
      assert.deepEqual((await readWatermark(pool, id))!.values, [top!.ts, top!.seq], 'repair leaves the watermark alone');
    });
  } finally {
    await client.connection.close();
    await services.close();
  }
});
