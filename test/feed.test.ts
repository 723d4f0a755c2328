// `coldtier feed` (the compose file's coldtier-feed service runs exactly this): the default registry's ClickHouse
// source tables and a synthetic feed, idempotent tables, rows through to silver and gold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { bronzeTable, cliEnv, makeTestEnv, openChdb } from './helpers/coldtier';
import { BIN } from './helpers/processes';

test('coldtier feed --rows creates the source tables and inserts trades through to silver and gold', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: () => [bronzeTable('bronze_trades_binance')] });
  const configPath = join(env.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: env.settings.tables }));
  const run = () => spawnSync(process.execPath, [BIN, 'feed', '--rows', '100'], { env: cliEnv(env, configPath), encoding: 'utf8', timeout: 180_000 });
  for (const expected of [[100, 10, 25], [200, 20, 50]]) {
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^feed: source tables ready; inserted 100 binance, 10 kraken, 25 coinbase trades$/m);
    const ch = await openChdb(env);
    try {
      const count = async (t: string) => Number((await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${t}`))[0]!.n);
      assert.deepEqual([await count('bronze_trades_binance'), await count('bronze_trades_kraken'), await count('bronze_trades_coinbase')], expected);
      assert.equal(await count('silver_trades'), expected.reduce((a, b) => a + b, 0));
      assert.ok((await count('gold_ohlcv_1d')) > 0, 'the gold views roll silver up');
    } finally {
      await ch.close(); // chDB: one process per data directory, and the next CLI run is another process
    }
  }
});
