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
    assert.match(err.message, /^ {2}- databaseUrl \(DATABASE_URL\): /m);
    assert.match(err.message, /^ {2}- clickhouse\.url \(CLICKHOUSE_URL\): /m);
    assert.match(err.message, /^ {2}- warehouse \(ICEBERG_WAREHOUSE\): /m);
    assert.match(err.message, /set DATABASE_URL, CLICKHOUSE_URL, ICEBERG_WAREHOUSE/);
    return true;
  });
});

test('bad URLs are refused with the setting named and the accepted forms', () => {
  assert.throws(() => loadSettings({ env: { ...base, CLICKHOUSE_URL: 'tcp://x:9000' }, cwd: dir }), /clickhouse\.url \(CLICKHOUSE_URL\): must be http\(s\):\/\/host:port .* or chdb:\/\/\/abs\/path/);
  assert.throws(() => loadSettings({ env: { ...base, ICEBERG_WAREHOUSE: 's3://bucket/../other' }, cwd: dir }), /warehouse \(ICEBERG_WAREHOUSE\): must not contain "\.\."/);
  assert.throws(() => loadSettings({ env: { ...base, ICEBERG_WAREHOUSE: '/relative/or/bare' }, cwd: dir }), /warehouse \(ICEBERG_WAREHOUSE\): must be s3:\/\/bucket\/prefix or file:\/\/\/abs\/path/);
  assert.throws(() => loadSettings({ env: { ...base, TEMPORAL_ADDRESS: 'http://localhost' }, cwd: dir }), /^ConfigError: config: invalid settings \(environment\): temporal\.address \(TEMPORAL_ADDRESS\): must be host:port$/);
  assert.throws(() => loadSettings({ env: { ...base, S3_ENDPOINT: '127.0.0.1 9000' }, cwd: dir }), /s3\.endpoint \(S3_ENDPOINT\): /);
});

test('TEMPORAL_TLS takes true/false/1/0 (any case); anything else is an error, not silently false', () => {
  for (const [v, tls] of [['true', true], ['TRUE', true], ['1', true], ['false', false], ['False', false], ['0', false]] as const) {
    assert.equal(loadSettings({ env: { ...base, TEMPORAL_TLS: v }, cwd: dir }).temporal.tls, tls, v);
  }
  assert.equal(loadSettings({ env: base, cwd: dir }).temporal.tls, false);
  for (const v of ['yes', 'on', '', 'ture']) {
    assert.throws(() => loadSettings({ env: { ...base, TEMPORAL_TLS: v }, cwd: dir }), new RegExp(`^ConfigError: config: invalid settings \\(environment\\): temporal\\.tls \\(TEMPORAL_TLS\\): must be true, false, 1 or 0, got "${v}"$`), v);
  }
});

test('half a credential pair is an error naming both halves', () => {
  assert.throws(
    () => loadSettings({ env: { ...base, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' }, cwd: dir }),
    /^ConfigError: config: invalid settings \(environment\): s3: AWS_ACCESS_KEY_ID \(s3\.accessKeyId\) is set but AWS_SECRET_ACCESS_KEY \(s3\.secretAccessKey\) is not; set both, or neither to use the AWS default credential chain$/,
  );
  assert.throws(() => loadSettings({ env: { ...base, AWS_SECRET_ACCESS_KEY: 'topsecret' }, cwd: dir }), (err: Error) => {
    assert.match(err.message, /AWS_SECRET_ACCESS_KEY \(s3\.secretAccessKey\) is set but AWS_ACCESS_KEY_ID \(s3\.accessKeyId\) is not/);
    assert.doesNotMatch(err.message, /topsecret/);
    return true;
  });
  assert.throws(() => loadSettings({ env: { ...base, TEMPORAL_TLS_KEY: '/k.pem' }, cwd: dir }), /temporal: TEMPORAL_TLS_KEY \(temporal\.tlsKeyPath\) is set but TEMPORAL_TLS_CERT \(temporal\.tlsCertPath\) is not/);
  const both = loadSettings({ env: { ...base, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'topsecret' }, cwd: dir });
  assert.deepEqual([both.s3.accessKeyId, both.s3.secretAccessKey], ['AKIAEXAMPLE', 'topsecret']);
});

test('config file tables: unknown keys, SQL in identifiers, duplicates and unknown dependencies name the table and key', () => {
  const path = join(dir, 'bad.yaml');
  writeFileSync(
    path,
    `tables:
  - { name: a, source: a, layer: bronze }
  - { name: a, source: "x; DROP TABLE y", layer: bronze, dependsOn: [zz] }
  - { name: c, source: c, layer: bronze, retention: 3, partitionBy: [{ column: ts, transform: week }] }
  - { name: "d'; --", source: d, layer: bronze }
`,
  );
  assert.throws(() => loadSettings({ env: { ...base, COLDTIER_CONFIG: path }, cwd: dir }), (err: Error) => {
    assert.match(err.message, /^ {2}- tables\[1\] \(a\)\.source: must be table or database\.table$/m);
    assert.match(err.message, /^ {2}- tables\[1\] \(a\)\.name: duplicate Iceberg table cold\.a$/m);
    assert.match(err.message, /^ {2}- tables\[1\] \(a\)\.dependsOn: table a depends on unknown table zz$/m);
    assert.match(err.message, /^ {2}- tables\[2\] \(c\): Unrecognized key: "retention"; known keys: name, source, layer, /m);
    assert.match(err.message, /^ {2}- tables\[2\] \(c\)\.partitionBy\[0\]\.transform: must be identity, year/m);
    // A name that is itself invalid is not echoed as the table's name.
    assert.match(err.message, /^ {2}- tables\[3\]\.name: must be a plain identifier/m);
    assert.doesNotMatch(err.message, /tables\.\d/);
    return true;
  });
  // One issue: one line, as every CLI error is.
  writeFileSync(path, 'tables:\n  - { name: a, source: a, layer: bronze }\n  - { name: bronze_trades_kraken, source: "kraken trades", layer: bronze }\n');
  assert.throws(() => loadSettings({ env: { ...base, COLDTIER_CONFIG: path }, cwd: dir }), /^ConfigError: config: invalid settings \(.*bad\.yaml \+ environment\): tables\[1\] \(bronze_trades_kraken\)\.source: must be table or database\.table$/);
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

test('a config key typo gets a did-you-mean naming the key it most likely meant', () => {
  const file = join(dir, 'typo.yaml');
  writeFileSync(file, 'temporal:\n  adress: temporal:7233\ntables:\n  - name: a\n    source: a\n    layer: bronze\n    sortby: [symbol]\nwarehose: file:///tmp/wh\n');
  assert.throws(
    () => loadSettings({ env: base, configPath: file, cwd: dir }),
    (err: Error) => {
      assert.match(err.message, /^ {2}- temporal: Unrecognized key: "adress"; did you mean "address" for "adress"\?$/m);
      assert.match(err.message, /^ {2}- tables\[0\] \(a\): Unrecognized key: "sortby"; did you mean "sortBy" for "sortby"\?$/m);
      assert.match(err.message, /^ {2}- \(root\): Unrecognized key: "warehose"; did you mean "warehouse" for "warehose"\?$/m);
      return true;
    },
  );
});
