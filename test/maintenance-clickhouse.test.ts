// The compaction activity on a MinIO (s3://) warehouse with the embedded chDB: a table ClickHouse can write is
// compacted through ClickHouse (it reads the exact file list over s3() with the named collection's keys), keeps every
// row once, and its files come out sorted by the table's sort order with bounds and null counts that match their
// rows; a table with a bucket partition keeps the parquet-wasm path and the result says why.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../src/activities';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { fromBinary, listDataFiles, loadTable, readDataFile } from '../src/iceberg';
import { openServices } from '../src/worker';
import { bronzeTable, fingerprint, icebergFunction, makeTestEnv } from './helpers/coldtier';

const HOUR = 3_600_000;

test('compaction through ClickHouse on s3://: every row once, sorted files with true metrics; a bucket-partitioned table falls back and says why', async () => {
  const env = await makeTestEnv({
    warehouse: 's3',
    tables: (tag) => [bronzeTable(`bronze_trades_cc${tag}`, { writeConcurrency: 2 }), bronzeTable(`bronze_trades_cb${tag}`, { partitionBy: [{ column: 'symbol', transform: 'bucket[4]' }] })],
  });
  const { settings } = env;
  const services = await openServices(settings);
  const { ch, pool, io } = services;
  const acts = createActivities({ settings, ...services });
  try {
    const [chTable, wasmTable] = settings.tables.map((t) => t.name) as [string, string];
    for (const table of [chTable, wasmTable]) {
      await createBronzeTable(ch, table);
      // 8 small offload cycles over two days of event time: a few small files per partition.
      for (let i = 0; i < 8; i++) {
        await insertTrades(ch, table, { rows: 300, exchange: 'binance', spreadSeconds: 2 * 86_400, seed: i, eventTimeEnd: new Date(Date.now() - 6 * HOUR) });
        await acts.offloadTable({ table });
      }
      assert.deepEqual(await fingerprint(ch, icebergFunction(env, table)), await fingerprint(ch, table), `${table}: offloaded`);
    }

    const id = (table: string) => ({ catalog: settings.catalog.name, namespace: settings.catalog.namespace, table });
    const viaCh = await acts.compactTable({ table: chTable, targetFileSizeMb: 128, minInputFiles: 2, dryRun: false });
    assert.equal(viaCh.status, 'compacted');
    assert.equal(viaCh.encoder, 'clickhouse', `compacted through ClickHouse (${viaCh.encoderReason ?? ''})`);
    assert.equal(viaCh.encoderReason, undefined);
    assert.ok(viaCh.filesAfter < viaCh.filesBefore, `${viaCh.filesBefore} → ${viaCh.filesAfter} files`);
    assert.deepEqual(await fingerprint(ch, icebergFunction(env, chTable)), await fingerprint(ch, chTable), 'every row once after the compaction');

    // The rewritten files: sorted by (symbol, exchange_timestamp), bounds and null counts true to their rows.
    const after = (await loadTable(pool, io, id(chTable)))!;
    const schema = after.metadata.schemas.find((s) => s['schema-id'] === after.metadata['current-schema-id'])!;
    const field = (n: string) => schema.fields.find((f) => f.name === n)!;
    const rewritten = (await listDataFiles(io, after.metadata)).filter((f) => f.record_count > 300);
    assert.ok(rewritten.length > 0, 'files larger than one offload batch');
    for (const f of rewritten) {
      const rows = [...(await readDataFile(io, f.file_path, schema.fields))].map((r) => r!.toJSON() as { symbol: string; exchange_timestamp: number; sequence: bigint });
      assert.equal(rows.length, f.record_count);
      for (let i = 1; i < rows.length; i++) {
        const [a, b] = [rows[i - 1]!, rows[i]!];
        assert.ok(a.symbol < b.symbol || (a.symbol === b.symbol && a.exchange_timestamp <= b.exchange_timestamp), `${f.file_path}: row ${i} is in the sort order`);
      }
      const seq = rows.map((r) => BigInt(r.sequence));
      const min = seq.reduce((x, y) => (y < x ? y : x));
      const max = seq.reduce((x, y) => (y > x ? y : x));
      assert.equal(fromBinary('long', f.lower_bounds![field('sequence').id]!), min, 'lower bound of sequence');
      assert.equal(fromBinary('long', f.upper_bounds![field('sequence').id]!), max, 'upper bound of sequence');
      assert.equal(fromBinary('string', f.lower_bounds![field('symbol').id]!), rows[0]!.symbol, 'lower bound of symbol');
      assert.equal(fromBinary('string', f.upper_bounds![field('symbol').id]!), rows.at(-1)!.symbol, 'upper bound of symbol');
      assert.equal(Number(f.null_value_counts![field('sequence').id]), 0);
    }

    const viaWasm = await acts.compactTable({ table: wasmTable, targetFileSizeMb: 128, minInputFiles: 2, dryRun: false });
    assert.equal(viaWasm.status, 'compacted');
    assert.equal(viaWasm.encoder, 'arrow');
    assert.match(viaWasm.encoderReason ?? '', /partition field .* uses bucket\[4\]/);
    assert.deepEqual(await fingerprint(ch, icebergFunction(env, wasmTable)), await fingerprint(ch, wasmTable), 'the fallback keeps every row once');
  } finally {
    await services.close();
  }
});
