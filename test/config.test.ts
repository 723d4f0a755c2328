import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../src/config/settings';
import { tableConfig } from '../src/config/lookup';

const base = {
  DATABASE_URL: 'postgres://u:secretpw@127.0.0.1:5432/db',
  CLICKHOUSE_URL: 'chdb:///tmp/ch',
  ICEBERG_WAREHOUSE: 'file:///tmp/wh',
};
const dir = mkdtempSync(join(tmpdir(), 'coldtier-config-'));

test('defaults: the seeds\' ten tables into the cold namespace of catalog coldtier', () => {
  const s = loadSettings({ env: base, cwd: dir });
  assert.equal(s.catalog.namespace, 'cold');
  assert.equal(s.catalog.name, 'coldtier');
  assert.equal(s.temporal.address, 'localhost:7233');
  assert.deepEqual(
    s.tables.map((t) => t.name),
    ['bronze_trades_binance', 'bronze_trades_kraken', 'bronze_trades_coinbase', 'silver_trades', 'gold_ohlcv_1m', 'gold_ohlcv_5m', 'gold_ohlcv_15m', 'gold_ohlcv_30m', 'gold_ohlcv_1h', 'gold_ohlcv_1d'],
  );
  assert.deepEqual(tableConfig(s, 'silver_trades').dependsOn, ['bronze_trades_binance', 'bronze_trades_kraken', 'bronze_trades_coinbase']);
  assert.equal(tableConfig(s, 'gold_ohlcv_15m').closedWindowSeconds, 900);
  assert.deepEqual(tableConfig(s, 'gold_ohlcv_1h').partitionBy, [{ column: 'window_start', transform: 'month' }]);
  assert.deepEqual(tableConfig(s, 'bronze_trades_binance').partitionBy, [{ column: 'exchange_timestamp', transform: 'day' }]);
});

test('missing settings name the environment variables to set', () => {
  assert.throws(() => loadSettings({ env: {}, cwd: dir }), (err: Error) => {
    assert.match(err.message, /DATABASE_URL/);
    assert.match(err.message, /CLICKHOUSE_URL/);
    assert.match(err.message, /ICEBERG_WAREHOUSE/);
    return true;
  });
});

test('bad URLs are refused with the setting named and the accepted forms', () => {
  assert.throws(() => loadSettings({ env: { ...base, CLICKHOUSE_URL: 'tcp://x:9000' }, cwd: dir }), /clickhouse\.url: must be http\(s\):\/\/host:port .* or chdb:\/\/\/abs\/path/);
  assert.throws(() => loadSettings({ env: { ...base, ICEBERG_WAREHOUSE: 's3://bucket/../other' }, cwd: dir }), /warehouse: must not contain "\.\."/);
  assert.throws(() => loadSettings({ env: { ...base, ICEBERG_WAREHOUSE: '/relative/or/bare' }, cwd: dir }), /warehouse: must be s3:\/\/bucket\/prefix or file:\/\/\/abs\/path/);
  assert.throws(() => loadSettings({ env: { ...base, TEMPORAL_ADDRESS: 'http://localhost' }, cwd: dir }), /temporal\.address: must be host:port/);
});

test('config file tables: unknown keys, SQL in identifiers, duplicates and unknown dependencies are named', () => {
  const path = join(dir, 'bad.yaml');
  writeFileSync(
    path,
    `tables:
  - { name: a, source: a, layer: bronze }
  - { name: a, source: "x; DROP TABLE y", layer: bronze, dependsOn: [zz] }
  - { name: c, source: c, layer: bronze, retention: 3 }
`,
  );
  assert.throws(() => loadSettings({ env: { ...base, COLDTIER_CONFIG: path }, cwd: dir }), (err: Error) => {
    assert.match(err.message, /tables\.1\.source: must be table or database\.table/);
    assert.match(err.message, /tables\.1\.name: duplicate Iceberg table cold\.a/);
    assert.match(err.message, /tables\.1\.dependsOn: table a depends on unknown table zz/);
    assert.match(err.message, /tables\.2: Unrecognized key: "retention"/);
    return true;
  });
});

test('an explicit config file that does not exist is an error; secrets never appear in errors', () => {
  assert.throws(() => loadSettings({ env: { ...base, COLDTIER_CONFIG: '/nope/coldtier.yaml' }, cwd: dir }), /config file \/nope\/coldtier\.yaml does not exist/);
  try {
    loadSettings({ env: { ...base, CLICKHOUSE_URL: 'bad' }, cwd: dir });
  } catch (err) {
    assert.doesNotMatch((err as Error).message, /secretpw/);
  }
});

test('unknown table names list the known ones', () => {
  const s = loadSettings({ env: base, cwd: dir });
  assert.throws(() => tableConfig(s, 'bronze_trades_ftx'), /unknown table "bronze_trades_ftx"; known tables: bronze_trades_binance, bronze_trades_kraken, bronze_trades_coinbase, silver_trades, gold_ohlcv_1m/);
});
