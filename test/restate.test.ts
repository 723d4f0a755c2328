// Restated rollups: late trades (new ingestion time, old event time) for gold windows already in Iceberg are restated
// by the next offload cycle in one overwrite commit, exactly once (also when the activity is retried after its commit
// landed), and `coldtier repair` restates gold windows left stale. Every check reads the gold tables back with two
// readers independent of coldtier (PyIceberg through the SQL catalog, chDB's icebergS3) and compares them value for
// value with the ClickHouse gold views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import type { OffloadTableResult, OffloadWorkflowResult } from '../src/activities/types';
import type { ClickHouse } from '../src/clickhouse/client';
import { startBackfill } from '../src/cli/maintain';
import { startOffload } from '../src/cli/offload';
import { loadSettings } from '../src/config/settings';
import { defaultTables, GOLD_WINDOWS } from '../src/config/tables';
import { venvBinDir } from '../src/devstack/tools';
import { readWatermark } from '../src/db/watermarks';
import { createBronzeTable, createSilverAndGold, EXCHANGES, insertTrades } from '../src/feed/synthetic';
import { loadTable } from '../src/iceberg';
import { registry } from '../src/metrics/registry';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { fingerprint, icebergFunction, makeTestEnv, type TestEnv } from './helpers/coldtier';

const GOLD = GOLD_WINDOWS.map(([label, seconds]) => ({ table: `gold_ohlcv_${label}`, seconds }));
const byTable = (r: OffloadWorkflowResult) => new Map<string, OffloadTableResult>(r.tables.map((t) => [t.table, t]));
const DAY = 86_400_000;

async function restatedMetric(table: string): Promise<number> {
  const m = (await registry.getSingleMetric('coldtier_restated_windows_total')!.get()).values.find((v) => v.labels.table === table);
  return m?.value ?? 0;
}

/** Snapshot operations of a table, oldest first, as coldtier's catalog has them. */
async function operations(env: TestEnv, pool: pg.Pool, table: string): Promise<string[]> {
  const t = await loadTable(pool, (await openServicesOnce(env)).io, { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table });
  return t!.metadata.snapshots.map((s) => s.summary.operation);
}
let services: Awaited<ReturnType<typeof openServices>> | undefined;
const openServicesOnce = async (env: TestEnv) => (services ??= await openServices(env.settings));

interface PyTable { rows: number; snapshots: { operation: string }[] }

/** PyIceberg (SqlCatalog on the test's catalog) scans each table and dumps its rows as Arrow IPC for ClickHouse. */
async function pyiceberg(env: TestEnv, tables: string[]): Promise<Record<string, PyTable>> {
  const s = env.settings;
  const cfg = {
    catalog: s.catalog.name,
    namespace: s.catalog.namespace,
    uri: s.databaseUrl.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://'),
    props: { 's3.endpoint': s.s3.endpoint, 's3.access-key-id': s.s3.accessKeyId, 's3.secret-access-key': s.s3.secretAccessKey, 's3.region': s.s3.region, 's3.path-style-access': 'true' },
    tables: tables.map((name) => ({ name, key: ['exchange', 'symbol', 'window_start'], sums: [], dump: join(env.dir, `${name}.arrow`) })),
  };
  const { stdout } = await promisify(execFile)(join(venvBinDir(), 'python'), [join('test', 'iceberg', 'pyiceberg_scan.py'), JSON.stringify(cfg)], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Record<string, PyTable>;
}

/** Every offloaded gold window, read back by chDB and by PyIceberg, equals the ClickHouse gold view value for value. */
async function assertGoldEqualsView(env: TestEnv, ch: ClickHouse, pool: pg.Pool, tables: string[], what: string): Promise<Record<string, PyTable>> {
  const py = await pyiceberg(env, tables);
  for (const table of tables) {
    const wm = await readWatermark(pool, { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table });
    const offloaded = `window_start <= toDateTime64('${wm!.values[0]}', 6, 'UTC')`;
    const view = await fingerprint(ch, table, 'gold', offloaded);
    assert.ok(Number(view.n) > 0, `${table} has offloaded windows`);
    assert.deepEqual(await fingerprint(ch, icebergFunction(env, table), 'gold'), view, `${what}: ${table} read by chDB equals the gold view`);
    assert.deepEqual(await fingerprint(ch, `file('${join(env.dir, `${table}.arrow`)}', 'Arrow')`, 'gold'), view, `${what}: ${table} read by PyIceberg equals the gold view`);
    assert.equal(py[table]!.rows, Number(view.n));
  }
  return py;
}

/** Distinct windows of the given late trades, per gold table (what a restatement must recompute). */
async function lateWindows(ch: ClickHouse, late: { exchange: string; first: bigint; last: bigint }[]): Promise<Map<string, number>> {
  const where = late.map((l) => `(exchange = '${l.exchange}' AND sequence BETWEEN ${l.first} AND ${l.last})`).join(' OR ');
  const out = new Map<string, number>();
  for (const g of GOLD) {
    const [row] = await ch.json<{ n: string }>(`SELECT toString(uniqExact(toStartOfInterval(exchange_timestamp, toIntervalSecond(${g.seconds}), 'UTC'))) AS n FROM silver_trades WHERE ${where}`);
    out.set(g.table, Number(row!.n));
  }
  return out;
}

test('derivedFrom: the seeds\' gold tables derive from silver_trades; bad values name the table and setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coldtier-restate-'));
  const env = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', CLICKHOUSE_URL: 'chdb:///tmp/ch', ICEBERG_WAREHOUSE: 'file:///tmp/wh' };
  const seeds = loadSettings({ env, cwd: dir });
  for (const g of GOLD) assert.deepEqual(seeds.tables.find((t) => t.name === g.table)!.derivedFrom, { table: 'silver_trades', timeColumn: 'exchange_timestamp' });
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, `tables:
  - { name: trades, source: trades, layer: bronze, derivedFrom: { table: other, timeColumn: ts } }
  - { name: bars, source: bars, layer: gold, watermark: [window_start], closedWindowSeconds: 60, derivedFrom: { table: tardes, timeColumn: ts } }
  - { name: self, source: self, layer: gold, watermark: [window_start], closedWindowSeconds: 60, derivedFrom: { table: self, timeColumn: ts } }
  - { name: wide, source: wide, layer: gold, watermark: [window_start, symbol], closedWindowSeconds: 60, derivedFrom: { table: trades, timeColumn: ts } }
`);
  assert.throws(() => loadSettings({ env: { ...env, COLDTIER_CONFIG: path }, cwd: dir }), (err: Error) => {
    assert.match(err.message, /tables\[0\] \(trades\)\.derivedFrom: table trades: derivedFrom is only for rollups; set closedWindowSeconds/);
    assert.match(err.message, /tables\[1\] \(bars\)\.derivedFrom: table bars: derivedFrom\.table tardes is not a table of the registry/);
    assert.match(err.message, /tables\[2\] \(self\)\.derivedFrom: table self: derivedFrom\.table cannot be the table itself/);
    assert.match(err.message, /tables\[3\] \(wide\)\.derivedFrom: table wide: derivedFrom needs a rollup whose watermark is its window start alone/);
    return true;
  });
});

test('late trades restate every gold table in one overwrite, exactly once under a retry; repair restates stale windows', async () => {
  const env = await makeTestEnv({
    warehouse: 's3',
    // silver and the six gold rollups (the bronze feeds only fill silver in ClickHouse here); gold as the seeds have it.
    tables: () => defaultTables.filter((t) => t.layer !== 'bronze').map((t) => (t.layer === 'silver' ? { ...t, dependsOn: [], lateDataBufferSeconds: 0 } : t)),
  });
  const { settings } = env;
  const svc = await openServicesOnce(env);
  const { ch, pool } = svc;
  const goldNames = GOLD.map((g) => g.table);
  // The retry scenario: the first restatement commit of the armed table throws after it landed.
  let failAfterCommitOf: string | null = null;
  try {
    for (const ex of EXCHANGES) await createBronzeTable(ch, `bronze_trades_${ex}`);
    await createSilverAndGold(ch);
    // Two days of trades ending two days ago: every window, daily ones too, is closed and offloaded by the first cycle.
    const end = new Date(Date.now() - 2 * DAY);
    for (const ex of EXCHANGES) await insertTrades(ch, `bronze_trades_${ex}`, { rows: 1_500, exchange: ex, spreadSeconds: 2 * 86_400, eventTimeEnd: end, seed: 21 });
    const late = async (seed: number, rows = 15, spreadSeconds = 86_400) => {
      const out = [];
      for (const ex of ['kraken', 'binance'] as const) {
        const r = await insertTrades(ch, `bronze_trades_${ex}`, { rows, exchange: ex, spreadSeconds, eventTimeEnd: new Date(end.getTime() - DAY / 2), seed });
        out.push({ exchange: ex, ...r });
      }
      return out;
    };

    const worker = await createWorker(settings, {
      services: svc,
      hooks: {
        afterCommit: ({ table }) => {
          if (table !== failAfterCommitOf) return;
          failAfterCommitOf = null;
          throw new Error(`injected: the restatement of ${table} fails after its commit landed`);
        },
      },
    });
    await worker.runUntil(async () => {
      // 1. The first cycle offloads everything and starts each rollup's restatement mark (no history is restated).
      const first = byTable((await startOffload(settings, { wait: true, json: true }))!);
      for (const t of goldNames) {
        assert.equal(first.get(t)!.status, 'committed', `${t}: ${first.get(t)!.reason ?? ''}`);
        assert.equal(first.get(t)!.restatedWindows, 0, `${t}: a first run restates nothing`);
      }
      await assertGoldEqualsView(env, ch, pool, goldNames, 'after the first cycle');
      const silverKey = (await readWatermark(pool, { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table: 'silver_trades' }))!.committedTo;
      const marks = await pool.query<{ table_name: string; mark: string[] }>('SELECT table_name, mark FROM coldtier_restatement_marks WHERE catalog_name = $1', [settings.catalog.name]);
      assert.deepEqual(marks.rows.map((r) => r.table_name).sort(), [...goldNames].sort(), 'each rollup has a restatement mark');
      for (const r of marks.rows) assert.deepEqual(r.mark, silverKey, `${r.table_name}: the mark starts at silver's committed key`);

      // 2. Late trades for offloaded windows: the next cycle restates exactly their windows, in one overwrite each.
      const lateA = await late(31);
      const expectedA = await lateWindows(ch, lateA);
      const before = new Map(await Promise.all(goldNames.map(async (t) => [t, await restatedMetric(t)] as const)));
      for (const t of goldNames) assert.notDeepEqual(await fingerprint(ch, icebergFunction(env, t), 'gold'), await fingerprint(ch, t, 'gold', `window_start <= (SELECT max(window_start) FROM ${icebergFunction(env, t)})`), `${t} is stale before the cycle`);
      const workflowId = `coldtier-offload-restate-${env.tag}`;
      const second = byTable((await startOffload(settings, { wait: true, json: true, workflowId }))!);
      assert.equal(second.get('silver_trades')!.rows, 30);
      for (const t of goldNames) {
        const r = second.get(t)!;
        assert.equal(r.status, 'noop', `${t}: no new closed window (${r.reason ?? ''})`);
        assert.equal(r.restatedWindows, expectedA.get(t), `${t}: restated the late trades' windows`);
        assert.ok(r.restatedSnapshotId, `${t}: the restatement's snapshot`);
        assert.equal(await restatedMetric(t), before.get(t)! + expectedA.get(t)!, `${t}: coldtier_restated_windows_total`);
        assert.deepEqual((await operations(env, pool, t)).filter((o) => o !== 'append'), ['overwrite'], `${t}: one overwrite snapshot`);
      }
      const pyA = await assertGoldEqualsView(env, ch, pool, goldNames, 'after the restating cycle');
      for (const t of goldNames) assert.equal(pyA[t]!.snapshots.filter((s) => s.operation === 'overwrite').length, 1, `${t}: PyIceberg sees one overwrite`);
      // The Web UI's current details name the restatement.
      const client = await connectClient(settings.temporal);
      try {
        const meta = await client.workflow.getHandle(workflowId).query<{ currentDetails: string }>('__temporal_workflow_metadata');
        assert.match(meta.currentDetails, new RegExp(`\\| gold_ohlcv_1m \\| noop \\|[^\\n]*restated ${expectedA.get('gold_ohlcv_1m')} windows`));
      } finally {
        await client.connection.close();
      }

      // 3. A retried restatement commits nothing twice: the activity fails after its commit landed and is retried.
      // Hundreds of scattered 1-minute windows (and windows older than anything offloaded so far).
      const lateB = await late(41, 400, 2 * 86_400);
      const expectedB = await lateWindows(ch, lateB);
      failAfterCommitOf = 'gold_ohlcv_5m';
      const third = byTable((await startOffload(settings, { wait: true, json: true }))!);
      assert.equal(failAfterCommitOf, null, 'the injected failure happened');
      for (const t of goldNames) {
        assert.equal(third.get(t)!.restatedWindows, expectedB.get(t), `${t}: restated the second late batch's windows`);
        assert.deepEqual((await operations(env, pool, t)).filter((o) => o !== 'append'), ['overwrite', 'overwrite'], `${t}: one overwrite per restating cycle`);
      }
      await assertGoldEqualsView(env, ch, pool, goldNames, 'after the retried restatement');
      // A further cycle with no late rows restates nothing.
      const quiet = byTable((await startOffload(settings, { wait: true, json: true }))!);
      for (const t of goldNames) assert.equal(quiet.get(t)!.restatedWindows, 0, `${t}: nothing left to restate`);
      // A mark moved backward re-examines the late rows, finds their windows equal to the source and rewrites nothing.
      await pool.query('UPDATE coldtier_restatement_marks SET mark = $2 WHERE catalog_name = $1', [settings.catalog.name, JSON.stringify(silverKey)]);
      const reexamined = byTable((await startOffload(settings, { wait: true, json: true }))!);
      for (const t of goldNames) {
        assert.equal(reexamined.get(t)!.restatedWindows, 0, `${t}: re-examined windows already equal the source`);
        assert.deepEqual((await operations(env, pool, t)).filter((o) => o !== 'append'), ['overwrite', 'overwrite'], `${t}: no new snapshot`);
      }

      // 4. Stale windows (the restatement skipped by moving the mark past the late rows) are restated by repair.
      const lateC = await late(51);
      const expectedC = await lateWindows(ch, lateC);
      const silverOnly = byTable((await startOffload(settings, { wait: true, json: true, tables: ['silver_trades'] }))!);
      assert.equal(silverOnly.get('silver_trades')!.rows, 30);
      await pool.query(`UPDATE coldtier_restatement_marks m SET mark = w.committed_to FROM coldtier_watermarks w
        WHERE m.catalog_name = $1 AND w.catalog_name = $1 AND w.table_name = 'silver_trades'`, [settings.catalog.name]);
      const skipped = byTable((await startOffload(settings, { wait: true, json: true }))!);
      for (const t of goldNames) assert.equal(skipped.get(t)!.restatedWindows, 0, `${t}: the moved mark skips the late rows`);
      const stale = 'gold_ohlcv_15m';
      assert.notDeepEqual(await fingerprint(ch, icebergFunction(env, stale), 'gold'), await fingerprint(ch, stale, 'gold', `window_start <= (SELECT max(window_start) FROM ${icebergFunction(env, stale)})`), `${stale} is stale`);
      const window = { from: new Date(end.getTime() - 4 * DAY).toISOString(), to: end.toISOString() };
      const repaired = (await startBackfill(settings, { table: stale, ...window, reason: 'repair' }, { wait: true, json: true }))!;
      assert.equal(repaired.restatedWindows, expectedC.get(stale), 'repair restated the stale windows');
      assert.ok(repaired.restatedSnapshotId);
      await assertGoldEqualsView(env, ch, pool, [stale], 'after repair');
      assert.deepEqual((await operations(env, pool, stale)).filter((o) => o !== 'append'), ['overwrite', 'overwrite', 'overwrite']);
      // Repairing again finds every window equal and commits nothing.
      const again = (await startBackfill(settings, { table: stale, ...window, reason: 'repair' }, { wait: true, json: true }))!;
      assert.equal(again.restatedWindows, 0);
      assert.equal((await operations(env, pool, stale)).filter((o) => o !== 'append').length, 3);

      // 5. Repair never recomputes a window from a part of its trades: rows ClickHouse dropped (as its TTL would)
      // leave that window as Iceberg has it, reported; the other stale windows are restated.
      const hourly = 'gold_ohlcv_1h';
      const gone = Math.floor((end.getTime() - 2 * DAY) / 3_600_000) * 3_600_000 + 3_600_000;
      const goneWhere = `window_start = fromUnixTimestamp64Milli(${gone}, 'UTC')`;
      const [has] = await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${hourly} WHERE ${goneWhere} AND exchange = 'coinbase'`);
      assert.ok(Number(has!.n) > 0, 'the hour to drop has coinbase trades');
      const coldBefore = await fingerprint(ch, icebergFunction(env, hourly), 'gold', goneWhere);
      await ch.command(`DELETE FROM silver_trades WHERE exchange = 'coinbase' AND toStartOfHour(exchange_timestamp, 'UTC') = fromUnixTimestamp64Milli(${gone}, 'UTC')`);
      assert.notDeepEqual(await fingerprint(ch, hourly, 'gold', goneWhere), coldBefore, 'the gold view of the dropped hour changed');
      const guarded = (await startBackfill(settings, { table: hourly, ...window, reason: 'repair' }, { wait: true, json: true }))!;
      assert.equal(guarded.restatedWindows, expectedC.get(hourly), 'the stale hours were restated');
      assert.equal(guarded.restateSkippedWindows, 1, 'the hour ClickHouse no longer holds completely was not');
      assert.deepEqual(guarded.restateSkipped, [new Date(gone).toISOString()]);
      assert.deepEqual(await fingerprint(ch, icebergFunction(env, hourly), 'gold', goneWhere), coldBefore, 'Iceberg keeps the complete hour');
      const wmHourly = (await readWatermark(pool, { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table: hourly }))!.values[0]!;
      const others = `NOT (${goneWhere})`;
      assert.deepEqual(await fingerprint(ch, icebergFunction(env, hourly), 'gold', others), await fingerprint(ch, hourly, 'gold', `${others} AND window_start <= toDateTime64('${wmHourly}', 6, 'UTC')`), 'every other hour equals the gold view');
    });
  } finally {
    await services?.close();
  }
});
