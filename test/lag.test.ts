// One definition of lag (src/cli/lag.ts): `coldtier status` and the coldtier_watermark_lag_seconds metric agree, on an
// idle caught-up table (0), on a table with rows not yet offloaded, and on gold rollups (an open window is no lag).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../src/activities';
import { collectStatus, type TableStatus } from '../src/cli/status';
import { allLags } from '../src/cli/lag';
import { defaultTables } from '../src/config/tables';
import { createBronzeTable, createSilverAndGold, insertTrades } from '../src/feed/synthetic';
import { metrics, registry } from '../src/metrics/registry';
import { openServices } from '../src/worker';
import { bronzeTable, makeTestEnv } from './helpers/coldtier';

const gold = (name: string) => ({ ...defaultTables.find((t) => t.name === name)!, lateDataBufferSeconds: 0 });

async function metricLags(): Promise<Map<string, number>> {
  const gauge = registry.getSingleMetric('coldtier_watermark_lag_seconds')!;
  const { values } = await gauge.get();
  return new Map(values.map((v) => [String(v.labels.table), v.value]));
}

test('status and the lag metric agree: idle caught-up table 0, unoffloaded rows, gold with an open window', async () => {
  // Fixed source names: silver and gold are built on bronze_trades_<exchange>, and each test has its own chDB.
  const env = await makeTestEnv({
    warehouse: 'file',
    tables: () => [bronzeTable('bronze_trades_binance'), bronzeTable('bronze_trades_kraken'), gold('gold_ohlcv_1h'), gold('gold_ohlcv_1d')],
  });
  const { settings } = env;
  const services = await openServices(settings);
  try {
    const { ch } = services;
    for (const ex of ['binance', 'kraken']) await createBronzeTable(ch, `bronze_trades_${ex}`);
    await createSilverAndGold(ch, ['binance', 'kraken']);
    await insertTrades(ch, 'bronze_trades_binance', { rows: 2000, exchange: 'binance', spreadSeconds: 3 * 86_400 });
    const acts = createActivities({ settings, ...services });
    await acts.offloadTable({ table: 'bronze_trades_binance' });
    await acts.offloadTable({ table: 'gold_ohlcv_1h' });
    // Rows that no offload takes: kraken is never offloaded, and gold_ohlcv_1d neither.
    await insertTrades(ch, 'bronze_trades_kraken', { rows: 500, exchange: 'kraken', spreadSeconds: 86_400 });
    metrics.measureLag((into) => allLags(settings, services.pool, ch, (t, err) => assert.fail(`lag of ${t}: ${String(err)}`), (t, v) => into.set(t, v)));

    // Wait (on the clock, not a sleep) until the unoffloaded kraken rows are visibly old, so "lag > 0" is observable.
    const deadline = Date.now() + 120_000;
    let status: TableStatus[] = [];
    for (;;) {
      status = await collectStatus(settings, services);
      if ((status.find((s) => s.table === 'bronze_trades_kraken')?.lagSeconds ?? 0) >= 2) break;
      assert.ok(Date.now() < deadline, `kraken lag never reached 2 s: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const before = Date.now();
    status = await collectStatus(settings, services);
    const metric = await metricLags();
    const elapsed = Math.ceil((Date.now() - before) / 1000) + 1;
    const by = new Map(status.map((s) => [s.table, s]));
    for (const s of status) assert.equal(s.error, undefined, `${s.table}: ${s.error}`);

    // Every table: the metric is the number status printed (up to the seconds between the two reads).
    for (const s of status) {
      const m = metric.get(s.table);
      assert.ok(m !== undefined, `metric for ${s.table}`);
      assert.ok(Math.abs(m - s.lagSeconds!) <= elapsed, `${s.table}: status ${s.lagSeconds} s, metric ${m} s`);
    }
    // Idle and caught up: 0, however old its last row is.
    assert.equal(by.get('bronze_trades_binance')!.pendingRows, 0);
    assert.equal(by.get('bronze_trades_binance')!.lagSeconds, 0);
    assert.equal(metric.get('bronze_trades_binance'), 0);
    // Rows not yet offloaded: the age of the oldest of them.
    assert.equal(by.get('bronze_trades_kraken')!.pendingRows, 500);
    assert.ok(by.get('bronze_trades_kraken')!.lagSeconds! >= 2);
    // Gold, offloaded: the open hour (and, right after an hour boundary, the one just closed) is pending but is not
    // a window-long lag, which the old definition reported.
    assert.ok(by.get('gold_ohlcv_1h')!.pendingRows! > 0, 'the open window is pending');
    assert.ok(by.get('gold_ohlcv_1h')!.lagSeconds! < 3600, `gold_ohlcv_1h lag ${by.get('gold_ohlcv_1h')!.lagSeconds}`);
    // Gold, never offloaded: the oldest closed day has waited since it closed (events span three days).
    assert.ok(by.get('gold_ohlcv_1d')!.lagSeconds! > 86_400, `gold_ohlcv_1d lag ${by.get('gold_ohlcv_1d')!.lagSeconds}`);
  } finally {
    await services.close();
  }
});

test('a scrape waits a bounded time for the lag read: a slow table shows at a later scrape, keeps its last value, and one read runs at a time', async () => {
  let reads = 0;
  let release!: () => void;
  let slow = new Promise<void>((resolve) => (release = resolve));
  metrics.measureLag(async (into) => {
    reads++;
    into.set('fast', reads);
    await slow;
    into.set('slow', 10 * reads);
  }, 300);
  const started = Date.now();
  let m = await metricLags();
  assert.ok(Date.now() - started >= 250, 'the scrape waited for the read');
  assert.equal(m.get('fast'), 1);
  assert.equal(m.has('slow'), false, 'the slow table is not read yet');
  // The read is still running: the next scrape joins it instead of starting another.
  m = await metricLags();
  assert.equal(reads, 1);
  release();
  // Once it ends, a later scrape shows the slow table (a read that just ended serves the other gauges of the same scrape).
  const deadline = Date.now() + 60_000;
  while (!m.has('slow')) {
    assert.ok(Date.now() < deadline, `the slow table never showed: ${JSON.stringify([...m])}, ${reads} reads`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    m = await metricLags();
  }
  assert.equal(m.get('slow'), 10 * m.get('fast')!, 'both values from the same read');
  // A read that fails part way keeps the last value of the table it could not read.
  const before = { reads, slow: m.get('slow')! };
  slow = Promise.reject(new Error('ClickHouse went away'));
  slow.catch(() => undefined);
  while (reads === before.reads) {
    assert.ok(Date.now() < deadline, 'no further read');
    await new Promise((resolve) => setTimeout(resolve, 200));
    m = await metricLags();
  }
  assert.equal(m.get('fast'), reads, 'the table read before the failure has its new value');
  assert.equal(m.get('slow'), before.slow, 'the failed table keeps its last value');
});
