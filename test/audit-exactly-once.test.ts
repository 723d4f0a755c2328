import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { createActivities } from '../src/activities';
import { fingerprintSpec, icebergTableHours } from '../src/activities/maintenance/audit-hours';
import { sourceSchema } from '../src/activities/tables';
import type { BackfillTableResult } from '../src/activities/types';
import { describeSource, type ClickHouse } from '../src/clickhouse/client';
import { dataFilesFunction, ensureWarehouseAccess } from '../src/clickhouse/data-files';
import { allTtls } from '../src/cli/lag';
import { formatOffload } from '../src/cli/offload';
import { parseTtl } from '../src/clickhouse/ttl';
import { collectStatus, formatStatus, type TableStatus } from '../src/cli/status';
import { tableConfig, tableIdent } from '../src/config/lookup';
import { venvBinDir } from '../src/devstack/tools';
import { defaultTables } from '../src/config/tables';
import { createBronzeTable, createSilverAndGold, insertTrades } from '../src/feed/synthetic';
import { casCommit, currentSchema, listDataFiles, loadTable, prepareReplace, readDataFile, scanColumns, writeDataFiles } from '../src/iceberg';
import { metrics, registry } from '../src/metrics/registry';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, fingerprint, icebergFunction, makeTestEnv } from './helpers/coldtier';

const HOUR = 3_600_000;
const floorHour = (ms: number) => Math.floor(ms / HOUR) * HOUR;

/** Rows of `src` copied into `table` with ingested_at moved `hoursAgo` hours into the past (one INSERT). */
async function insertAged(ch: ClickHouse, table: string, rows: number, hoursAgo: number, seed: number): Promise<void> {
  const staging = `${table}_staging`;
  await createBronzeTable(ch, staging);
  await ch.command(`TRUNCATE TABLE ${staging}`);
  const [{ next }] = (await ch.json<{ next: string }>(`SELECT toString(coalesce(max(sequence), 0)) AS next FROM ${table}`)) as [{ next: string }];
  await insertTrades(ch, staging, { rows, exchange: 'kraken', eventTimeEnd: new Date(Date.now() - (hoursAgo + 1) * HOUR), spreadSeconds: 1800, seed });
  await ch.command(`INSERT INTO ${table} SELECT * REPLACE (now64(6) - toIntervalSecond({s:UInt32}) AS ingested_at, sequence + {base:Int64} AS sequence) FROM ${staging}`, { s: hoursAgo * 3600, base: next });
}

test('a duplicated data file appended behind coldtier\'s back: the audit reports duplicate_data for its hours, repair removes the copies, the audit is ok again', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_dup${tag}`)] });
  const { settings } = env;
  const name = settings.tables[0]!.name;
  const services = await openServices(settings);
  const { ch, pool, io } = services;
  const acts = createActivities({ settings, ...services });
  const client = await connectClient(settings.temporal);
  try {
    await createBronzeTable(ch, name);
    const now = Date.now();
    // Three inserts, three offloads: three data files, each over a few hours of event time.
    for (const [i, end] of [6, 4, 2].entries()) {
      await insertTrades(ch, name, { rows: 300, exchange: 'kraken', eventTimeEnd: new Date(now - end * HOUR), spreadSeconds: 2 * 3600, seed: i + 1 });
      assert.equal((await acts.offloadTable({ table: name })).status, 'committed');
    }
    const windowStart = new Date(floorHour(now) - 10 * HOUR).toISOString();
    const windowEnd = new Date(floorHour(now) + HOUR).toISOString();
    assert.equal((await acts.auditTable({ table: name, windowStart, windowEnd })).status, 'ok');

    // Another writer (PyIceberg, through the same Postgres catalog) appends a copy of the middle file.
    const table = (await loadTable(pool, io, tableIdent(settings, name)))!;
    const files = await listDataFiles(io, table.metadata);
    assert.ok(files.length >= 3);
    const copied = files[1]!;
    const copies = copied.record_count;
    const src = copied.file_path.slice('file://'.length);
    const dst = join(dirname(src), `copy-${basename(src)}`);
    const u = new URL(settings.databaseUrl);
    const uri = `postgresql+psycopg2://${u.username}:${u.password}@${u.host}${u.pathname}`;
    await promisify(execFile)(join(venvBinDir(), 'python'), [join(import.meta.dirname, 'interop', 'append_copy.py'), settings.catalog.name, uri, settings.catalog.namespace, name, src, dst], { timeout: 300_000 });
    const before = await fingerprint(ch, icebergFunction(env, name));
    assert.equal(before.n, String(900 + copies), 'PyIceberg appended the file\'s rows a second time');
    assert.equal(before.keys, '900');

    // The hours the copied file's rows fall in, from the file itself.
    const rows = await readDataFile(io, src, currentSchema(table.metadata).fields.filter((f) => f.name === 'exchange_timestamp'));
    const expected = new Map<string, number>();
    const ts = rows.getChild('exchange_timestamp')!;
    for (let r = 0; r < rows.numRows; r++) {
      const h = new Date(floorHour(Number(ts.get(r)))).toISOString();
      expected.set(h, (expected.get(h) ?? 0) + 1);
    }
    const audit = await acts.auditTable({ table: name, windowStart, windowEnd });
    assert.equal(audit.status, 'duplicate_data', audit.notes);
    const dupHours = audit.hoursDiffering.filter((h) => h.issue === 'duplicate');
    assert.deepEqual(dupHours.map((h) => h.hour).sort(), [...expected.keys()].sort(), 'exactly the hours of the copied file');
    for (const h of dupHours) assert.equal(h.iceberg - h.clickhouse, expected.get(h.hour), `surplus of ${h.hour}`);
    assert.match(audit.notes, new RegExp(`fix with: coldtier repair --table ${name} --window ${windowStart}/${windowEnd}`));

    // The daily maintenance fails on it, naming the table and the status.
    const worker = await createWorker(settings, { services });
    const repair = (workflowId: string) =>
      client.workflow.execute('backfillWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId, args: [{ table: name, from: windowStart, to: windowEnd, reason: 'repair' }] }) as Promise<BackfillTableResult>;
    // One worker run for the three workflows (a worker runs once).
    const [err, repaired, afterRepair, second] = await worker.runUntil(async () => {
      const e = await client.workflow.execute('maintenanceWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `maint-dup-${env.tag}`, args: [{ stages: ['audit'], auditWindowHours: 11, auditWindowEnd: windowEnd }] }).then(
        () => assert.fail('the run should fail'),
        (x: unknown) => x,
      );
      // The repair the audit printed, then a second one.
      const r = await repair(`repair-dup-${env.tag}`);
      const a = (await loadTable(pool, io, tableIdent(settings, name)))!;
      return [e, r, a, await repair(`repair-dup2-${env.tag}`)] as const;
    });
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String(err.cause?.message), new RegExp(`${name}: duplicate_data`));

    // The repair: one delete commit, nothing added.
    assert.equal(repaired.rowsAdded, 0);
    assert.equal(repaired.duplicates?.rowsRemoved, copies);
    const after = afterRepair;
    const snap = after.metadata.snapshots.find((s) => s['snapshot-id'] === after.metadata['current-snapshot-id'])!;
    assert.equal(snap.summary.operation, 'delete');
    assert.equal(snap.summary['deleted-records'], String(copies));
    const fixed = await fingerprint(ch, icebergFunction(env, name));
    assert.deepEqual(fixed, await fingerprint(ch, name), 'Iceberg equals the source again: every row once');
    const again = await acts.auditTable({ table: name, windowStart, windowEnd });
    assert.equal(again.status, 'ok', again.notes);
    assert.deepEqual(again.hoursDiffering, []);
    // The second repair found nothing to remove and committed nothing.
    assert.equal(second.duplicates?.rowsRemoved, 0);
    assert.equal(second.duplicates?.snapshotId, null);
    assert.equal((await loadTable(pool, io, tableIdent(settings, name)))!.metadata['current-snapshot-id'], after.metadata['current-snapshot-id']);
  } finally {
    await client.connection.close();
    await services.close();
  }
});

test('a value changed in Iceberg (one price in a rewritten file): the audit reports mismatch for that hour only', async () => {
  const env = await makeTestEnv({ warehouse: 's3', tables: (tag) => [bronzeTable(`bronze_trades_mm${tag}`)] });
  const { settings } = env;
  const name = settings.tables[0]!.name;
  const services = await openServices(settings);
  const { ch, pool, io } = services;
  const acts = createActivities({ settings, ...services });
  try {
    await createBronzeTable(ch, name);
    const now = Date.now();
    await insertTrades(ch, name, { rows: 500, exchange: 'kraken', eventTimeEnd: new Date(now - 2 * HOUR), spreadSeconds: 4 * 3600 });
    await acts.offloadTable({ table: name });
    const windowStart = new Date(floorHour(now) - 8 * HOUR).toISOString();
    const windowEnd = new Date(floorHour(now) + HOUR).toISOString();
    assert.equal((await acts.auditTable({ table: name, windowStart, windowEnd })).status, 'ok');

    // Rewrite the data file with one trade's price raised by 0.01, committed as an overwrite.
    const id = tableIdent(settings, name);
    const table = (await loadTable(pool, io, id))!;
    const [file] = await listDataFiles(io, table.metadata);
    const columns = await describeSource(ch, name, name);
    const { select } = sourceSchema(tableConfig(settings, name), columns, table.metadata);
    const from = dataFilesFunction([file!.file_path], await ensureWarehouseAccess(ch, settings), columns.map((c) => `\`${c.name}\` ${c.type}`).join(', '));
    // A trade from the middle of the file.
    const [victim] = await ch.json<{ seq: string; h: string }>(`SELECT toString(sequence) AS seq, toString(toUnixTimestamp(toStartOfHour(exchange_timestamp, 'UTC')) * 1000) AS h FROM ${from} ORDER BY sequence LIMIT 1 OFFSET {o:UInt32}`, { o: Math.floor(file!.record_count / 2) });
    const altered = await ch.arrow(`SELECT ${select.join(', ')} FROM (SELECT * REPLACE (if(sequence = {s:Int64}, price + toDecimal64(0.01, 8), price) AS price) FROM ${from})`, { s: victim!.seq });
    assert.equal(altered.numRows, file!.record_count);
    const added = await writeDataFiles(io, table.metadata, altered);
    await casCommit(pool, io, id, table, { prepare: (base) => prepareReplace(io, base, { added, removed: [file!], startingSnapshotId: null }, { operation: 'overwrite' }) });
    const fp = await fingerprint(ch, icebergFunction(env, name));
    assert.equal(fp.n, '500', 'same rows');
    assert.notEqual(fp.hash, (await fingerprint(ch, name)).hash, 'one value differs');

    const audit = await acts.auditTable({ table: name, windowStart, windowEnd });
    assert.equal(audit.status, 'mismatch', audit.notes);
    assert.equal(audit.clickhouseRows, 500);
    assert.equal(audit.icebergRows, 500);
    assert.deepEqual(audit.hoursDiffering.map((h) => [h.hour, h.issue]), [[new Date(Number(victim!.h)).toISOString(), 'mismatch']]);
    assert.match(audit.notes, /hours whose values differ from ClickHouse/);
  } finally {
    await services.close();
  }
});

test('a rollup whose closed window got late trades: the audit reports mismatch for that window, the repair it prints restates it, the audit is ok again', async () => {
  // silver_trades is in the registry: gold_ohlcv_1h is derived from it (derivedFrom), which the repair's restatement reads.
  // Silver without its 5 s late-data buffer, so the rows just inserted are offloaded in this cycle.
  const tables = defaultTables.filter((t) => t.name === 'silver_trades' || t.name === 'gold_ohlcv_1h').map((t) => (t.name === 'silver_trades' ? { ...t, lateDataBufferSeconds: 0 } : t));
  const env = await makeTestEnv({ warehouse: 'file', tables: () => tables });
  const { settings } = env;
  const services = await openServices(settings);
  const { ch } = services;
  const acts = createActivities({ settings, ...services });
  const client = await connectClient(settings.temporal);
  try {
    await createBronzeTable(ch, 'bronze_trades_binance');
    await createSilverAndGold(ch, ['binance']);
    const now = Date.now();
    await insertTrades(ch, 'bronze_trades_binance', { rows: 2000, exchange: 'binance', eventTimeEnd: new Date(floorHour(now) - 3 * HOUR), spreadSeconds: 3 * 3600, seed: 1 });
    assert.equal((await acts.offloadTable({ table: 'silver_trades' })).status, 'committed');
    assert.equal((await acts.offloadTable({ table: 'gold_ohlcv_1h' })).status, 'committed');
    const window = { table: 'gold_ohlcv_1h', windowStart: new Date(floorHour(now) - 8 * HOUR).toISOString(), windowEnd: new Date(floorHour(now)).toISOString() };
    assert.equal((await acts.auditTable(window)).status, 'ok');
    // Late trades for a window already offloaded: ClickHouse's OHLCV of that hour changes, Iceberg's does not.
    const late = floorHour(now) - 5 * HOUR;
    await insertTrades(ch, 'bronze_trades_binance', { rows: 40, exchange: 'binance', eventTimeEnd: new Date(late + 30 * 60_000), spreadSeconds: 60, seed: 7 });
    const audit = await acts.auditTable(window);
    assert.equal(audit.status, 'mismatch', audit.notes);
    assert.deepEqual(audit.hoursDiffering.map((h) => [h.hour, h.issue]), [[new Date(late).toISOString(), 'mismatch']]);
    assert.equal(audit.icebergRows, audit.clickhouseRows, 'the same windows, different values');
    assert.match(audit.notes, new RegExp(`fix with: coldtier repair --table gold_ohlcv_1h --window ${window.windowStart}/${window.windowEnd}`));

    // The repair the audit printed (the workflow `coldtier repair` starts), then the audit again.
    const worker = await createWorker(settings, { services });
    const repaired = await worker.runUntil(
      client.workflow.execute('backfillWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `repair-gold-${env.tag}`, args: [{ table: 'gold_ohlcv_1h', from: window.windowStart, to: window.windowEnd, reason: 'repair' }] }) as Promise<BackfillTableResult>,
    );
    assert.equal(repaired.rowsAdded, 0, 'no window was missing');
    assert.equal(repaired.restatedWindows, 1, JSON.stringify(repaired));
    assert.deepEqual(repaired.restated, [new Date(late).toISOString()]);
    const after = await acts.auditTable(window);
    assert.equal(after.status, 'ok', after.notes);
    assert.deepEqual(after.hoursDiffering, []);
  } finally {
    await client.connection.close();
    await services.close();
  }
});

test('the TTL guard: headroom before the TTL reaches unoffloaded rows (status, metric); rows already deleted are reported by offload and audit', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_tta${tag}`), bronzeTable(`bronze_trades_ttb${tag}`)] });
  const { settings } = env;
  const [soon, lost] = settings.tables.map((t) => t.name) as [string, string];
  const services = await openServices(settings);
  const { ch, pool } = services;
  const acts = createActivities({ settings, ...services });
  try {
    // soon: a 1-day TTL and unoffloaded rows ingested 23 hours ago — about an hour left.
    await createBronzeTable(ch, soon);
    await ch.command(`ALTER TABLE ${soon} MODIFY TTL toDateTime(ingested_at) + INTERVAL 1 DAY`);
    await insertAged(ch, soon, 200, 23, 1);
    const status = (await collectStatus(settings, services)).find((s) => s.table === soon)!;
    assert.equal(status.ttl, 'toDateTime(ingested_at) + toIntervalDay(1)');
    assert.ok(status.ttlHeadroomSeconds! > 0 && status.ttlHeadroomSeconds! <= 3600, `headroom ${status.ttlHeadroomSeconds} s: about an hour`);
    metrics.measureTtl((into) => allTtls(settings, pool, ch, (t, err) => assert.fail(`TTL of ${t}: ${String(err)}`), (t, v) => into.set(t, v)));
    const text = await registry.metrics();
    const m = new RegExp(`coldtier_ttl_headroom_seconds\\{table="${soon}"\\} (-?\\d+)`).exec(text);
    assert.ok(m, 'the metric has the table');
    assert.ok(Number(m[1]) > 0 && Number(m[1]) <= 3600, `metric ${m[1]}`);
    assert.match(text, new RegExp(`coldtier_source_ttl_seconds\\{table="${soon}"\\} 86400`));
    // Offloaded, the whole TTL is left.
    await acts.offloadTable({ table: soon });
    assert.equal((await collectStatus(settings, services)).find((s) => s.table === soon)!.ttlHeadroomSeconds, 86_400);

    // lost: offloaded up to 3 days ago; rows ingested 60 hours ago never were, and a 2-day TTL deleted them.
    await createBronzeTable(ch, lost);
    await insertAged(ch, lost, 100, 72, 2);
    const first = await acts.offloadTable({ table: lost });
    assert.equal(first.rows, 100);
    assert.equal(first.rowsLost, undefined);
    await insertAged(ch, lost, 100, 60, 3);
    await insertAged(ch, lost, 50, 1, 4);
    await ch.command(`ALTER TABLE ${lost} MODIFY TTL toDateTime(ingested_at) + INTERVAL 2 DAY`);
    await ch.command(`OPTIMIZE TABLE ${lost} FINAL`);
    const [left] = await ch.json<{ n: string; lo: string }>(`SELECT toString(count()) AS n, toString(min(sequence)) AS lo FROM ${lost}`);
    assert.equal(left!.n, '50', 'ClickHouse deleted the 100 unoffloaded rows (and the offloaded ones)');
    const windowEnd = new Date(floorHour(Date.now()) + HOUR).toISOString();
    const audit = await acts.auditTable({ table: lost, windowStart: new Date(floorHour(Date.now()) - 80 * HOUR).toISOString(), windowEnd });
    assert.equal(audit.status, 'missing_data', audit.notes);
    assert.match(audit.notes, new RegExp(`rows lost in ${lost}: ClickHouse's TTL on ${lost} \\(toDateTime\\(ingested_at\\) \\+ toIntervalDay\\(2\\)\\) deleted rows that were never offloaded`));
    assert.match(audit.notes, new RegExp(`the oldest row left in ${lost} is \\([^)]*, ${left!.lo}\\)`));
    // The offloaded rows ClickHouse deleted too are in hours past its TTL: more rows in Iceberg is fine there (the seeds' rule).
    // (The 50 rows still in ClickHouse are not offloaded yet: their hours are missing.)
    const past = audit.hoursDiffering.filter((h) => h.issue === 'beyond_ttl');
    assert.ok(past.length > 0);
    for (const h of past) assert.equal(h.clickhouse, 0, h.hour);
    assert.equal(past.reduce((a, h) => a + h.iceberg, 0), 100);
    for (const h of audit.hoursDiffering.filter((x) => x.issue !== 'beyond_ttl')) assert.deepEqual([h.issue, h.iceberg], ['missing', 0], h.hour);
    assert.equal(audit.clickhouseRows, 50);
    assert.match(audit.notes, /are past ClickHouse's TTL \(toDateTime\(ingested_at\) \+ toIntervalDay\(2\)\): more rows in Iceberg is expected there/);
    const second = await acts.offloadTable({ table: lost });
    assert.equal(second.rows, 50, 'the rows still there are offloaded');
    assert.match(second.rowsLost ?? '', new RegExp(`rows lost in ${lost}: .*watermark is \\(ingested_at, sequence\\) = \\([^)]*, 100\\).*gone from ClickHouse for good`));
    assert.equal((await collectStatus(settings, services)).find((s) => s.table === lost)!.ttlHeadroomSeconds, 2 * 86_400);
    const printed = formatOffload({ status: 'ok', tables: [second], rows: second.rows, durationMs: second.durationMs });
    assert.ok(printed.includes(second.rowsLost!), 'the whole sentence is printed');
    assert.match(printed, /\nok \(ROWS LOST, see above\): 50 rows/);
    // The watermark is now past the gap, so nothing in the source shows it any more: the audit still reports the
    // loss the offload recorded (coldtier_rows_lost), naming the table and the key range.
    const later = await acts.auditTable({ table: lost, windowStart: new Date(floorHour(Date.now()) - 80 * HOUR).toISOString(), windowEnd });
    assert.equal(later.status, 'missing_data', later.notes);
    assert.match(later.notes, new RegExp(`rows lost in ${lost}: .*watermark is \\(ingested_at, sequence\\) = \\([^)]*, 100\\).*\\(found by the offload at \\d{4}-`));
    assert.equal((await acts.offloadTable({ table: lost })).rowsLost, undefined, 'no new gap: the next offload reports nothing');
  } finally {
    await services.close();
  }
});

test('TTL rules: the first rule that deletes rows is read; moves and conditional deletes are not; another form is an error; status prints the headroom', () => {
  const engine = (ttl: string) => `MergeTree ORDER BY (ingested_at, sequence) TTL ${ttl} SETTINGS index_granularity = 8192`;
  assert.deepEqual(parseTtl('t', engine('toDateTime(ingested_at) + toIntervalDay(30)')), { text: 'toDateTime(ingested_at) + toIntervalDay(30)', column: 'ingested_at', unit: 'Day', amount: 30 });
  assert.equal(parseTtl('t', 'MergeTree ORDER BY a SETTINGS index_granularity = 8192'), null, 'no TTL');
  assert.equal(parseTtl('t', engine("a + toIntervalDay(7) TO VOLUME 'cold'")), null, 'a move deletes nothing');
  assert.deepEqual(parseTtl('t', engine("a + toIntervalDay(7) TO VOLUME 'cold', a + toIntervalMonth(1)")), { text: 'a + toIntervalMonth(1)', column: 'a', unit: 'Month', amount: 1 });
  assert.equal(parseTtl('t', engine("a + toIntervalDay(1) WHERE side = 'buy'")), null, 'a conditional delete does not delete every row');
  assert.throws(() => parseTtl('db.t', engine('a + toIntervalDay(b)')), /source db\.t: cannot read its TTL rule "a \+ toIntervalDay\(b\)"/);
  // How status prints the headroom: a duration, OVERDUE once the TTL has passed the oldest unoffloaded row, - without a TTL.
  const row = (ttlHeadroomSeconds: number | null): TableStatus => ({ table: 't', layer: 'bronze', watermark: null, watermarkTs: null, lagSeconds: 0, pendingRows: 0, ttlHeadroomSeconds, ttl: null, snapshots: 0, files: 0, rows: 0 });
  const printed = formatStatus([row(-7200), row(3600), row(null)]).split('\n');
  assert.match(printed[0]!, /ttl headroom/);
  assert.match(printed.find((l) => /OVERDUE/.test(l)) ?? '', /OVERDUE 2 h 00 min/);
  assert.equal(printed.filter((l) => /OVERDUE/.test(l)).length, 1);
});

test('the audit through ClickHouse counts what the worker counts: several partitions, an added column, a compacted-away file', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_cc${tag}`)] });
  const { settings } = env;
  const name = settings.tables[0]!.name;
  const services = await openServices(settings);
  const { ch, pool, io } = services;
  const deps = { settings, ...services };
  const acts = createActivities(deps);
  try {
    await createBronzeTable(ch, name);
    const now = Date.now();
    // Three days of event time (three day partitions), in several offloads.
    for (let i = 0; i < 3; i++) {
      await insertTrades(ch, name, { rows: 400, exchange: 'kraken', eventTimeEnd: new Date(now - (i * 20 + 2) * HOUR), spreadSeconds: 20 * 3600, seed: i + 1 });
      await acts.offloadTable({ table: name });
    }
    // Compaction rewrites the small files: the old ones are deleted from the snapshot (and stay on disk).
    const compacted = await acts.compactTable({ table: name, targetFileSizeMb: 128, minInputFiles: 2, dryRun: false });
    assert.equal(compacted.status, 'compacted');
    assert.ok(compacted.filesRewritten >= 2);
    // A column added to the source: later files have it, earlier ones do not.
    await ch.command(`ALTER TABLE ${name} ADD COLUMN venue LowCardinality(String) DEFAULT 'main'`);
    await insertTrades(ch, name, { rows: 300, exchange: 'kraken', eventTimeEnd: new Date(now - HOUR), spreadSeconds: 30 * 3600, seed: 9 });
    await acts.offloadTable({ table: name });
    const table = (await loadTable(pool, io, tableIdent(settings, name)))!;
    assert.ok(currentSchema(table.metadata).fields.some((f) => f.name === 'venue'), 'the table took the new column');

    const fromMs = floorHour(now) - 72 * HOUR;
    const toMs = floorHour(now) + HOUR;
    const columns = await describeSource(ch, name, name);
    const spec = fingerprintSpec(tableConfig(settings, name), columns, table.metadata, { fromMs, toMs });
    assert.ok(!spec.columns.some((c) => c.name === 'venue'), 'the added column is not fingerprinted (old files read it as null)');
    const viaClickHouse = await icebergTableHours(deps, table.metadata, spec, true);
    const viaWorker = new Map<number, number>();
    for await (const part of scanColumns(io, table.metadata, { columns: ['exchange_timestamp'], filter: { column: 'exchange_timestamp', fromMs, toMs } })) {
      const v = part.getChildAt(0)!;
      for (let i = 0; i < part.numRows; i++) {
        const h = floorHour(Number((v.get(i) as bigint) / 1000n));
        viaWorker.set(h, (viaWorker.get(h) ?? 0) + 1);
      }
    }
    assert.ok(new Set([...viaWorker.keys()].map((h) => Math.floor(h / (24 * HOUR)))).size >= 3, 'rows in three or more day partitions');
    assert.deepEqual(new Map([...viaClickHouse].map(([h, f]) => [h, f.rows])), viaWorker);
    assert.equal([...viaWorker.values()].reduce((a, b) => a + b, 0), 1500);
    for (const f of viaClickHouse.values()) assert.equal(f.keys, f.rows, 'no key twice');
    const audit = await acts.auditTable({ table: name, windowStart: new Date(fromMs).toISOString(), windowEnd: new Date(toMs).toISOString() });
    assert.equal(audit.status, 'ok', audit.notes);
    assert.equal(audit.icebergRows, 1500);
  } finally {
    await services.close();
  }
});
