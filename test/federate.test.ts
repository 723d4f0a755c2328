// The federated view <db>.<table>_all (issue 19): every row exactly once whichever tier holds it, during offloads too,
// with event-time filters pruning Iceberg partitions. Real chDB, Postgres, MinIO and Temporal.
import { test } from 'node:test';
import { renameSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { OffloadWorkflowResult } from '../src/activities/types';
import type { ClickHouse } from '../src/clickhouse/client';
import { fingerprintQuery } from '../src/clickhouse/federation';
import { applyViews, checkViews, planViews, printViews } from '../src/clickhouse/federated-views';
import { startOffload } from '../src/cli/offload';
import { readBoundary } from '../src/db/boundary';
import { createBronzeTable, createSilverAndGold, insertTrades } from '../src/feed/synthetic';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, LAYER_COLUMNS, makeTestEnv, type TestEnv } from './helpers/coldtier';

const COLS = [...LAYER_COLUMNS.bronze.cols];
const fp = async (ch: ClickHouse, from: string, where = '1', cols: string[] = COLS) => (await ch.json<{ n: string; hash: string }>(fingerprintQuery(from, cols, where)))[0]!;
const events = async (ch: ClickHouse) =>
  Object.fromEntries((await ch.json<{ name: string; value: string }>(`SELECT name, toString(value) AS value FROM system.events WHERE name LIKE 'Iceberg%PrunedFiles'`)).map((r) => [r.name, Number(r.value)]));
/** Rows of every snapshot ever inserted: the hot table before anything was deleted, kept aside. */
const copyAside = async (ch: ClickHouse, table: string) => {
  await ch.command(`CREATE TABLE ${table}_inserted ENGINE = MergeTree ORDER BY sequence AS SELECT * FROM ${table}`);
  return `${table}_inserted`;
};

async function offloadEnv(warehouse: 'file' | 's3', extra = {}) {
  const env: TestEnv = await makeTestEnv({ warehouse, tables: (tag) => [bronzeTable(`bronze_fed_${tag}`, extra)] });
  const services = await openServices(env.settings);
  const table = env.settings.tables[0]!.name;
  await createBronzeTable(services.ch, table);
  const worker = await createWorker(env.settings, { services });
  const offload = () => startOffload(env.settings, { wait: true, json: true }) as Promise<OffloadWorkflowResult>;
  return { env, services, table, worker, offload, id: { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table } };
}

for (const warehouse of ['file', 's3'] as const) {
  test(`federated view on a ${warehouse}:// warehouse: every row once after the hot tier dropped what was offloaded; filters prune Iceberg partitions`, async () => {
    const { env, services, table, worker, offload, id } = await offloadEnv(warehouse);
    const { ch, pool } = services;
    try {
      await insertTrades(ch, table, { rows: 4000, exchange: 'binance', spreadSeconds: 4 * 86_400 });
      const view = `\`default\`.\`${table}_all\``;
      await worker.runUntil(async () => {
        // Before any offload the view is the hot table alone.
        await applyViews(env.settings, services);
        assert.deepEqual(await fp(ch, view), await fp(ch, table));
        const run = await offload();
        assert.equal(run.status, 'ok');
        // The cycle re-pinned the view it found to its own commit: the view's boundary is the committed one.
        assert.equal(run.tables[0]!.federatedView, 'refreshed', JSON.stringify(run.tables[0]));
        const [meta] = await ch.json<{ comment: string }>(`SELECT comment FROM system.tables WHERE database = 'default' AND name = {t:String}`, { t: `${table}_all` });
        const committed = await readBoundary(pool, id);
        assert.deepEqual(JSON.parse(meta!.comment).key, committed.key);
        assert.deepEqual((await checkViews(env.settings, services)).map((c) => c.status), ['ok']);
        // A second cycle with nothing new commits nothing and leaves the view alone.
        const idle = await offload();
        assert.equal(idle.tables[0]!.commits, 0);
        assert.equal(idle.tables[0]!.federatedView, undefined);
        assert.equal(JSON.parse((await ch.json<{ comment: string }>(`SELECT comment FROM system.tables WHERE database = 'default' AND name = {t:String}`, { t: `${table}_all` }))[0]!.comment).metadata, JSON.parse(meta!.comment).metadata);
      });
      await insertTrades(ch, table, { rows: 600, exchange: 'binance', spreadSeconds: 3600 });
      const inserted = await copyAside(ch, table);
      const printed = await printViews(env.settings, services);
      if (warehouse === 's3') {
        // The keys live in a named collection; the printed DDL masks them and the view names the collection only.
        assert.match(printed, /NAMED COLLECTION `coldtier_s3` (AS|SET) access_key_id = '\*\*\*', secret_access_key = '\*\*\*'/);
        assert.ok(!printed.includes(env.settings.s3.secretAccessKey!), 'no secret in the printed statements');
      }
      await applyViews(env.settings, services);
      const [shown] = await ch.json<{ q: string }>(`SELECT create_table_query AS q FROM system.tables WHERE database = 'default' AND name = {t:String}`, { t: `${table}_all` });
      // ClickHouse shows a table function's arguments after a named collection as [HIDDEN].
      assert.match(shown!.q, warehouse === 's3' ? /icebergS3\(coldtier_s3, url = '[^']+', SETTINGS '\[HIDDEN\]'\)/ : /iceberg_metadata_file_path/);
      if (warehouse === 's3') assert.ok(!shown!.q.includes(env.settings.s3.secretAccessKey!), 'no secret in the view definition');
      if (warehouse === 's3') {
        const [coll] = await ch.json<{ c: string }>(`SELECT toString(collection) AS c FROM system.named_collections WHERE name = 'coldtier_s3'`);
        assert.match(coll!.c, /'secret_access_key':'\[HIDDEN\]'/, 'ClickHouse shows the stored key as [HIDDEN]');
      }

      // As the TTL would: the hot tier drops every row the boundary covers. The view still has every row, once.
      const b = await readBoundary(pool, id);
      assert.ok(b.key && b.metadataLocation);
      await ch.command(`ALTER TABLE ${table} DELETE WHERE sequence <= {s:Int64} SETTINGS mutations_sync = 2`, { s: b.key[1] });
      assert.equal((await fp(ch, table)).n, '600', 'only the rows above the boundary are left in the hot tier');
      assert.deepEqual(await fp(ch, view), await fp(ch, inserted));
      // The hot side's boundary condition is on the first key column, so the primary key (ingested_at, sequence) skips
      // the granules below the boundary.
      const explain = (await ch.json<{ explain: string }>(`EXPLAIN indexes = 1 SELECT count() FROM ${view}`)).map((r) => r.explain).join('\n');
      assert.match(explain, new RegExp(`ReadFromMergeTree \\(default\\.${table}\\)[\\s\\S]*PrimaryKey[\\s\\S]*Condition: \\(ingested_at in \\[`), explain);
      const checked = await checkViews(env.settings, services);
      assert.deepEqual(checked.map((c) => [c.status, c.actual?.n]), [['ok', '4600']], checked[0]?.detail);

      // A filtered query: the same rows as filtering everything afterwards, and Iceberg files of other days not read.
      const [cut] = await ch.json<{ c: string }>(`SELECT toString(toStartOfDay(max(exchange_timestamp)) - INTERVAL 1 DAY) AS c FROM ${inserted}`);
      const where = `exchange_timestamp >= toDateTime64('${cut!.c}', 6, 'UTC')`;
      const before = await events(ch);
      const filtered = await fp(ch, view, where);
      const after = await events(ch);
      const pruned = (after.IcebergPartitionPrunedFiles ?? 0) - (before.IcebergPartitionPrunedFiles ?? 0) + (after.IcebergMinMaxIndexPrunedFiles ?? 0) - (before.IcebergMinMaxIndexPrunedFiles ?? 0);
      assert.ok(pruned >= 2, `the filter skipped the Iceberg files of the older days (pruned ${pruned})`);
      assert.deepEqual(filtered, await fp(ch, `(SELECT * FROM ${view})`, where));
      assert.deepEqual(filtered, await fp(ch, inserted, where));
      assert.ok(Number(filtered.n) > 0 && Number(filtered.n) < 4600);

      // A view not refreshed after the next commit stays exact: its Iceberg side keeps the pinned snapshot (not the
      // newest metadata file) and its hot side has everything above the pinned boundary.
      const [plan] = await planViews(env.settings, services);
      await insertTrades(ch, table, { rows: 300, exchange: 'binance', spreadSeconds: 3600 });
      await ch.command(`INSERT INTO ${inserted} SELECT * FROM ${table} WHERE sequence > 4600`);
      // A worker runs once: a second one for the next cycle.
      await (await createWorker(env.settings, { services })).runUntil(async () => {
        const run = await offload();
        assert.equal(run.tables[0]!.rows, 900);
        assert.equal(run.tables[0]!.federatedView, 'refreshed');
      });
      // Put the older pair back, as a view whose refresh failed (or a cycle without the refresh) would have it.
      await ch.command(plan!.view.ddl);
      assert.equal((await fp(ch, plan!.iceberg!)).n, '4000', 'the pinned Iceberg side still reads the snapshot of its boundary');
      assert.deepEqual(await fp(ch, view), await fp(ch, inserted));
      assert.deepEqual((await checkViews(env.settings, services)).map((c) => c.status), ['ok']);

      if (warehouse === 'file') {
        // The pinned metadata file gone (as orphan removal would, long after): the view fails and --check says so.
        const pinnedFile = `${env.settings.warehouse.slice('file://'.length)}/${env.settings.catalog.namespace}/${table}/${plan!.view.pin.metadata}`;
        renameSync(pinnedFile, `${pinnedFile}.gone`);
        const [gone] = await checkViews(env.settings, services);
        assert.equal(gone!.status, 'different');
        assert.match(gone!.detail, /view fails: .*run coldtier federate --apply/);
        await applyViews(env.settings, services);
        assert.deepEqual((await checkViews(env.settings, services)).map((c) => c.status), ['ok'], 'a refresh pins the current commit');
      }
    } finally {
      await services.close();
    }
  });
}

test('queries through the view while offload cycles commit and the view is refreshed: every answer is a count the table had at one instant', async () => {
  const { env, services, table, worker, offload } = await offloadEnv('file', { batchRows: 700 });
  const { ch } = services;
  try {
    const view = `\`default\`.\`${table}_all\``;
    // Each INSERT is atomic: the table holds one of the cumulative totals at any instant. `totals` gets the next one
    // when the INSERT starts (it may be visible from then on), `confirmed` when it has returned.
    const totals = [0];
    let confirmed = 0;
    const insert = async (rows: number) => {
      totals.push(totals.at(-1)! + rows);
      await insertTrades(ch, table, { rows, exchange: 'binance', spreadSeconds: 2 * 86_400 });
      confirmed = totals.at(-1)!;
    };
    await insert(2000);
    await applyViews(env.settings, services);
    let done = false;
    const answers: { n: number; lo: number; hi: number }[] = [];
    const query = async () => {
      while (!done) {
        const lo = confirmed;
        const { n } = await fp(ch, view);
        answers.push({ n: Number(n), lo, hi: totals.at(-1)! });
      }
    };
    const refresh = async () => {
      while (!done) await applyViews(env.settings, services);
    };
    await worker.runUntil(async () => {
      const loops = [query(), query(), refresh()];
      try {
        for (let cycle = 0; cycle < 4; cycle++) {
          const r = await offload();
          assert.equal(r.status, 'ok');
          await insert(900 + cycle * 100);
        }
        assert.equal((await offload()).status, 'ok');
      } finally {
        done = true;
        await Promise.all(loops);
      }
    });
    const bad = answers.filter((a) => !totals.some((t) => t >= a.lo && t <= a.hi && t === a.n));
    assert.ok(answers.length >= 10, `queries ran (${answers.length})`);
    assert.deepEqual(bad, [], 'no answer counted a row twice or missed one');
    assert.deepEqual(await fp(ch, view), await fp(ch, table));
  } finally {
    await services.close();
  }
});

test('a gold rollup unions at its closed-window boundary: closed windows from Iceberg, later windows computed live in ClickHouse', async () => {
  const env = await makeTestEnv({
    warehouse: 'file',
    tables: () => [{ name: 'gold_ohlcv_1m', source: 'gold_ohlcv_1m', layer: 'gold', watermark: ['window_start'], closedWindowSeconds: 60, lateDataBufferSeconds: 0, partitionBy: [{ column: 'window_start', transform: 'month' }], sortBy: ['symbol', 'exchange', 'window_start'] }],
  });
  const services = await openServices(env.settings);
  const { ch, pool } = services;
  const cols = [...LAYER_COLUMNS.gold.cols];
  try {
    await createBronzeTable(ch, 'bronze_trades_binance');
    await createSilverAndGold(ch, ['binance']);
    await insertTrades(ch, 'bronze_trades_binance', { rows: 3000, exchange: 'binance', spreadSeconds: 6 * 3600, eventTimeEnd: new Date(Date.now() - 5 * 60_000) });
    const worker = await createWorker(env.settings, { services });
    await worker.runUntil(async () => assert.equal(((await startOffload(env.settings, { wait: true, json: true })) as OffloadWorkflowResult).status, 'ok'));
    // Trades of the current minute: their window is open, above the boundary, and comes from the hot side.
    await insertTrades(ch, 'bronze_trades_binance', { rows: 200, exchange: 'binance', spreadSeconds: 1 });
    await applyViews(env.settings, services);
    const b = await readBoundary(pool, { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table: 'gold_ohlcv_1m' });
    assert.ok(b.key, 'closed windows were offloaded');
    const view = '`default`.`gold_ohlcv_1m_all`';
    const [split] = await ch.json<{ cold: string; hot: string }>(
      `SELECT toString(countIf(window_start <= toDateTime64({w:String}, 6, 'UTC'))) AS cold, toString(countIf(window_start > toDateTime64({w:String}, 6, 'UTC'))) AS hot FROM ${view}`,
      { w: b.key[0] },
    );
    assert.ok(Number(split!.cold) > 0 && Number(split!.hot) > 0, `windows from both tiers: ${JSON.stringify(split)}`);
    // Silver still holds every trade, so the live rollup is the expected answer for every window.
    assert.deepEqual(await fp(ch, view, '1', cols), await fp(ch, 'gold_ohlcv_1m', '1', cols));
    assert.deepEqual((await checkViews(env.settings, services)).map((c) => c.status), ['ok']);
  } finally {
    await services.close();
  }
});
