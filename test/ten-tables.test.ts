import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { OffloadTableResult, OffloadWorkflowResult } from '../src/activities/types';
import { startOffload } from '../src/cli/offload';
import { defaultTables, GOLD_WINDOWS } from '../src/config/tables';
import { readWatermark } from '../src/db/watermarks';
import { createBronzeTable, createSilverAndGold, EXCHANGES, insertTrades } from '../src/feed/synthetic';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { fingerprint, icebergFunction, makeTestEnv } from './helpers/coldtier';

const byTable = (r: OffloadWorkflowResult) => new Map<string, OffloadTableResult>(r.tables.map((t) => [t.table, t]));

/** The gold view's rollup, computed over another source (e.g. the silver Iceberg table). */
function rollup(from: string, seconds: number): string {
  return `(SELECT exchange, symbol,
      toDateTime64(toStartOfInterval(exchange_timestamp, toIntervalSecond(${seconds}), 'UTC'), 6, 'UTC') AS window_start,
      argMin(price, (exchange_timestamp, sequence)) AS open, max(price) AS high, min(price) AS low,
      argMax(price, (exchange_timestamp, sequence)) AS close, sum(quantity) AS volume, sum(notional) AS notional, toInt64(count()) AS trade_count
    FROM ${from} GROUP BY exchange, symbol, window_start)`;
}

test('ten tables, bronze → silver → gold: exact rows, closed gold windows, late rows, concurrent cycles, a broken source', async () => {
  const env = await makeTestEnv({
    warehouse: 's3',
    tables: () => defaultTables.map((t) => (t.layer === 'gold' ? t : { ...t, lateDataBufferSeconds: 0 })),
  });
  const { settings } = env;
  const services = await openServices(settings);
  const { ch, pool } = services;
  const ice = (t: string) => icebergFunction(env, t);
  const idOf = (table: string) => ({ catalog: settings.catalog.name, namespace: settings.catalog.namespace, table });
  try {
    for (const ex of EXCHANGES) await createBronzeTable(ch, `bronze_trades_${ex}`);
    await createSilverAndGold(ch);
    const sizes = { binance: 20_000, kraken: 4_000, coinbase: 8_000 };
    for (const ex of EXCHANGES) await insertTrades(ch, `bronze_trades_${ex}`, { rows: sizes[ex], exchange: ex, spreadSeconds: 2 * 86_400, seed: 7 });

    const worker = await createWorker(settings, { services });
    await worker.runUntil(async () => {
      // 1. One cycle moves all ten tables.
      const first = byTable((await startOffload(settings, { wait: true, json: true }))!);
      assert.equal(first.size, 10);
      for (const [name, r] of first) assert.equal(r.status, 'committed', `${name}: ${r.reason ?? ''}`);
      for (const ex of EXCHANGES) {
        assert.equal(first.get(`bronze_trades_${ex}`)!.rows, sizes[ex]);
        assert.deepEqual(await fingerprint(ch, ice(`bronze_trades_${ex}`)), await fingerprint(ch, `bronze_trades_${ex}`));
      }
      assert.equal(first.get('silver_trades')!.rows, 32_000);
      assert.deepEqual(await fingerprint(ch, ice('silver_trades'), 'silver'), await fingerprint(ch, 'silver_trades', 'silver'));

      // Gold: only closed windows, each equal to ClickHouse's gold and to the rollup of the silver Iceberg table.
      for (const [label, seconds] of GOLD_WINDOWS) {
        const table = `gold_ohlcv_${label}`;
        const wm = await readWatermark(pool, idOf(table));
        assert.ok(wm, `${table} has a watermark`);
        const closed = `window_start <= toDateTime64('${wm.values[0]}', 6, 'UTC')`;
        const [open] = await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${table} WHERE window_start > toDateTime64('${wm.values[0]}', 6, 'UTC')`);
        assert.ok(Number(open!.n) > 0, `${table}: the newest windows are still open and were not taken`);
        assert.ok(wm.ts.getTime() + seconds * 1000 <= Date.now() - 300_000, `${table}: watermark window has closed`);
        const cold = await fingerprint(ch, ice(table), 'gold');
        assert.deepEqual(cold, await fingerprint(ch, table, 'gold', closed), `${table} equals ClickHouse gold`);
        assert.deepEqual(cold, await fingerprint(ch, rollup(ice('silver_trades'), seconds), 'gold', closed), `${table} equals the rollup of silver`);
      }

      // 2. Late rows (old event time, new ingestion) reach bronze and silver in the next cycle, exactly once.
      await insertTrades(ch, 'bronze_trades_kraken', { rows: 50, exchange: 'kraken', eventTimeEnd: new Date(Date.now() - 3 * 86_400_000), seed: 8 });
      const late = byTable((await startOffload(settings, { wait: true, json: true }))!);
      assert.equal(late.get('bronze_trades_kraken')!.rows, 50);
      assert.equal(late.get('silver_trades')!.rows, 50);
      assert.deepEqual(await fingerprint(ch, ice('bronze_trades_kraken')), await fingerprint(ch, 'bronze_trades_kraken'));
      assert.deepEqual(await fingerprint(ch, ice('silver_trades'), 'silver'), await fingerprint(ch, 'silver_trades', 'silver'));

      // 3. A duplicate trigger of the same run is refused by Temporal; a concurrent second cycle races the first.
      await insertTrades(ch, 'bronze_trades_binance', { rows: 3_000, exchange: 'binance', seed: 9 });
      const client = await connectClient(settings.temporal);
      try {
        const id = `coldtier-offload-dup-${env.tag}`;
        const a = await client.workflow.start('offloadWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: id, args: [{}] });
        await assert.rejects(client.workflow.start('offloadWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: id, args: [{}] }), WorkflowExecutionAlreadyStartedError);
        const b = await client.workflow.start('offloadWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `${id}-b`, args: [{}] });
        const [ra, rb] = (await Promise.all([a.result(), b.result()])) as [OffloadWorkflowResult, OffloadWorkflowResult];
        const taken = byTable(ra).get('bronze_trades_binance')!.rows + byTable(rb).get('bronze_trades_binance')!.rows;
        assert.equal(taken, 3_000, 'the two cycles together took the new rows once');
      } finally {
        await client.connection.close();
      }
      const binance = await fingerprint(ch, ice('bronze_trades_binance'));
      assert.equal(binance.n, '23000');
      assert.equal(binance.keys, '23000');
      assert.deepEqual(binance, await fingerprint(ch, 'bronze_trades_binance'));
      const silver = await fingerprint(ch, ice('silver_trades'), 'silver');
      assert.equal(silver.keys, silver.n);
      assert.deepEqual(silver, await fingerprint(ch, 'silver_trades', 'silver'));

      // 4. A broken source (dropped table) fails its own table; the other nine still run and commit.
      await ch.command('DROP TABLE bronze_trades_kraken');
      await insertTrades(ch, 'bronze_trades_binance', { rows: 1_000, exchange: 'binance', seed: 10 });
      const broken = (await startOffload(settings, { wait: true, json: true }))!;
      const r = byTable(broken);
      assert.equal(broken.status, 'partial');
      assert.equal(r.get('bronze_trades_kraken')!.status, 'failed');
      assert.match(r.get('bronze_trades_kraken')!.reason!, /clickhouse source default\.bronze_trades_kraken of table bronze_trades_kraken does not exist/);
      for (const [name, t] of r) if (name !== 'bronze_trades_kraken') assert.notEqual(t.status, 'failed', `${name}: ${t.reason ?? ''}`);
      assert.equal(r.get('bronze_trades_binance')!.rows, 1_000);
      assert.equal(r.get('silver_trades')!.rows, 1_000);
      assert.match(r.get('silver_trades')!.reason ?? '', /bronze_trades_kraken failed/);
    });
  } finally {
    await services.close();
  }
});
