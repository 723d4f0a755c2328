// The ClickHouse-encoded write path (src/activities/offload/clickhouse-write.ts): the same rows written by ClickHouse's
// Parquet encoder and by the Arrow path must give the same table — same partitions, same per-file metrics (counts,
// null and NaN counts, bounds), same rows read back by coldtier's own reader and by chDB's icebergLocal.

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { writeWithClickHouse } from '../../src/activities/offload/clickhouse-write';
import { clickhouseEncodingUnsupported, type ClickHouseBatch } from '../../src/clickhouse/parquet-export';
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/client';
import { createFileIO, DataSchemaMismatchError, newTableLocation, newTableMetadata, prepareAppend, readDataFile, writeDataFiles, type DataFile, type PartitionFieldInput, type Schema, type TableMetadata } from '../../src/iceberg';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { adoptParquet } from '../../src/iceberg/parquet/footer';
import { partitionKey } from '../../src/iceberg/transaction/snapshot-producer';
import { ALL_TYPES, FLAT_TYPES } from './conformance-types';
import { randomName, tempDir, warehouseDir } from './helpers';

let ch: ClickHouse;
before(async () => {
  ch = await openClickHouse({ url: `chdb://${tempDir('chparquet')}`, username: 'default', password: '', database: 'default' });
});
after(async () => {
  await ch.close();
});

const io = createFileIO({});
const FLAT = FLAT_TYPES;

async function source(rows: number, columns = FLAT): Promise<{ name: string; schema: Schema; select: string[] }> {
  const name = randomName('chp');
  await ch.command(`CREATE TABLE ${name} (${columns.map(([n, t]) => `${n} ${t}`).join(', ')}) ENGINE = MergeTree ORDER BY k`);
  await ch.command(`INSERT INTO ${name} SELECT ${columns.map(([n, , e]) => `${e} AS ${n}`).join(', ')} FROM numbers(${rows})`);
  const cols = await ch.json<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position`, { t: name });
  return { name, ...icebergSchemaFromClickHouse(name, cols) };
}

function table(name: string, schema: Schema, partitionBy: PartitionFieldInput[], props: Record<string, string> = {}): TableMetadata {
  return newTableMetadata({ location: newTableLocation(`file://${warehouseDir('chparquet')}`, 'cold', name), schema, partitionBy, sortBy: [{ sourceColumn: 'k' }], properties: props });
}

function batch(src: { name: string; schema: Schema; select: string[] }, over: Partial<ClickHouseBatch> = {}): ClickHouseBatch {
  return { table: src.name, src: `\`default\`.\`${src.name}\``, select: src.select, where: { sql: '1', params: {} }, sortBy: ['k'], uniqueKey: ['k'], schema: src.schema, targetFileSizeBytes: 128 << 20, sortOrderId: 1, ...over };
}

const rowsOf = async (files: DataFile[], schema: Schema) => {
  const out: string[] = [];
  for (const f of files) {
    const t = await readDataFile(io, f.file_path, schema.fields);
    for (const r of t) out.push(JSON.stringify(r?.toJSON(), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
  }
  return out.sort();
};

it('writes the same partitions, metrics and rows as the Arrow path, for every flat type', async () => {
  const src = await source(ALL_TYPES.rows);
  assert.equal(src.schema.fields.length, FLAT.length);
  // day(t6) straddles the epoch (floor division below 0); identity(lc) has '' and 'ÿ'; hour(nt) has a null partition.
  const partitionBy: PartitionFieldInput[] = [{ sourceColumn: 't6', transform: 'day' }, { sourceColumn: 'lc', transform: 'identity' }, { sourceColumn: 'nt', transform: 'hour' }];
  const metaCh = table(src.name, src.schema, partitionBy);
  const metaArrow = table(src.name, src.schema, partitionBy);
  assert.equal(clickhouseEncodingUnsupported(metaCh, src.schema), undefined);

  const viaCh = await writeWithClickHouse(ch, io, metaCh, batch(src));
  const arrowRows = await ch.arrow(`SELECT ${src.select.join(', ')} FROM ${src.name} ORDER BY k`);
  const viaArrow = await writeDataFiles(io, metaArrow, arrowRows, { sortOrderId: 1 });

  assert.equal(viaCh.rows, ALL_TYPES.rows);
  const byPartition = (files: DataFile[]) => new Map(files.map((f) => [partitionKey(f), f]));
  const a = byPartition(viaArrow);
  const c = byPartition(viaCh.files);
  assert.deepEqual([...c.keys()].sort(), [...a.keys()].sort(), 'the same partitions');
  assert.ok(c.size >= 6, `several partitions (${c.size})`);
  const floats = new Set(src.schema.fields.filter((f) => f.type === 'float' || f.type === 'double').map((f) => f.id));
  for (const [key, fc] of c) {
    const fa = a.get(key)!;
    assert.deepEqual(fc.partition, fa.partition);
    assert.equal(fc.record_count, fa.record_count, `${key}: rows`);
    assert.deepEqual(fc.value_counts, fa.value_counts, `${key}: value counts`);
    assert.deepEqual(fc.null_value_counts, fa.null_value_counts, `${key}: null counts`);
    assert.deepEqual(fc.nan_value_counts, fa.nan_value_counts, `${key}: NaN counts`);
    // Written sorted by k, but not claimed on the file (recordedSortOrder: ClickHouse misreads ORDER BY otherwise).
    assert.equal(fc.sort_order_id, 0);
    assert.ok(fc.file_path.includes('/data/t6_day='), fc.file_path);
    for (const f of src.schema.fields) {
      for (const side of ['lower_bounds', 'upper_bounds'] as const) {
        const got = fc[side]?.[f.id];
        const want = fa[side]?.[f.id];
        // ClickHouse writes no statistics for a float chunk holding NaN: then the bound is absent (allowed), never wrong.
        if (got === undefined && floats.has(f.id) && (fa.nan_value_counts?.[f.id] ?? 0) > 0) continue;
        // Parquet statistics do not tell -0.0 from +0.0, so a zero bound is widened to cover both (still a bound).
        const zero = (b?: Uint8Array) => b !== undefined && floats.has(f.id) && Buffer.from(b).every((x, i) => x === 0 || (i === b.length - 1 && x === 0x80));
        if (zero(got) && zero(want)) continue;
        assert.deepEqual(got && Buffer.from(got).toString('hex'), want && Buffer.from(want).toString('hex'), `${key}: ${side} of ${f.name}`);
      }
    }
  }
  assert.deepEqual(await rowsOf(viaCh.files, src.schema), await rowsOf(viaArrow, src.schema), 'coldtier reads the same rows by field id');

  // And a reader that resolves columns by field id from the footer: chDB's icebergLocal over the committed table.
  await prepareAppend(io, { metadata: metaCh, metadataUri: null }, viaCh.files, {});
  const expected = await ch.json(`SELECT ${src.select.join(', ')} FROM ${src.name} ORDER BY k`);
  const got = await ch.json(`SELECT * FROM icebergLocal('${metaCh.location.slice('file://'.length)}') ORDER BY k`);
  assert.deepEqual(got, expected, 'icebergLocal reads every row and value, and ORDER BY k comes back sorted');
});

it('records the sort order on the files only when the table asks for it', async () => {
  const src = await source(4, FLAT.filter(([n]) => ['k', 's'].includes(n)));
  const claimed = await writeWithClickHouse(ch, io, table(src.name, src.schema, [], { 'coldtier.record-file-sort-order': 'true' }), batch(src));
  assert.deepEqual(claimed.files.map((f) => f.sort_order_id), [1]);
  const unsorted = await writeWithClickHouse(ch, io, table(src.name, src.schema, [], { 'coldtier.record-file-sort-order': 'true' }), batch(src, { sortOrderId: 0 }));
  assert.deepEqual(unsorted.files.map((f) => f.sort_order_id), [0]);
});

it('rolls a partition into files near the target size, each sorted, with every row exactly once', async () => {
  const src = await source(30_000, FLAT.filter(([n]) => ['k', 's', 'i64', 't6', 'd18'].includes(n)));
  const meta = table(src.name, src.schema, []);
  const first = await writeWithClickHouse(ch, io, meta, batch(src));
  assert.equal(first.files.length, 1, 'one file per partition under the target');
  const committed = await prepareAppend(io, { metadata: meta, metadataUri: null }, first.files, {});
  const bytesPerRow = first.files[0]!.file_size_in_bytes / 30_000;
  const target = Math.round(bytesPerRow * 6_000);
  // Three files at a time (writeConcurrency: 3): the same files, in slice order, each row once.
  const rolled = await writeWithClickHouse(ch, io, committed.metadata, batch(src, { targetFileSizeBytes: target }), 3);
  assert.equal(rolled.files.length, 5, 'sized by the bytes per row the table already has');
  const firstKeys = await Promise.all(rolled.files.map(async (f) => Number([...(await readDataFile(io, f.file_path, src.schema.fields))][0]!.k)));
  assert.deepEqual(firstKeys, [...firstKeys].sort((x, y) => x - y), 'files returned in slice order');
  for (const f of rolled.files) assert.ok(Math.abs(f.file_size_in_bytes - target) < target * 0.35, `${f.file_size_in_bytes} B near the ${target} B target`);
  const keys = (await rowsOf(rolled.files, src.schema)).map((r) => (JSON.parse(r) as { k: number }).k);
  assert.equal(keys.length, 30_000);
  assert.equal(new Set(keys).size, 30_000, 'no row twice');
  for (const f of rolled.files) {
    const ks = [...(await readDataFile(io, f.file_path, src.schema.fields))].map((r) => Number(r!.k));
    assert.deepEqual(ks, [...ks].sort((x, y) => x - y), 'sorted by the sort order');
  }
});

it('refuses strings that are not UTF-8, naming the table, the column and the bytes', async () => {
  const src = await source(3, [['k', 'UInt32', 'number'], ['s', 'String', "if(number = 1, unhex('41FF42'), 'ok')"]]);
  const meta = table(src.name, src.schema, []);
  await assert.rejects(writeWithClickHouse(ch, io, meta, batch(src)), (err: unknown) => {
    assert.ok(err instanceof DataSchemaMismatchError);
    assert.match(err.message, new RegExp(`column s: table ${src.name}: a value is not valid UTF-8 \\(bytes 41ff42\\).*toValidUTF8\\(s\\)`));
    return true;
  });
});

it('refuses the same in a LowCardinality(String) column checked on its dictionary, and writes its valid strings', async () => {
  const bad = await source(3, [['k', 'UInt32', 'number'], ['s', 'LowCardinality(String)', "if(number = 1, unhex('41FF42'), 'ok')"]]);
  await assert.rejects(writeWithClickHouse(ch, io, table(bad.name, bad.schema, []), batch(bad, { lowCardinality: ['s'] })), (err: unknown) => {
    assert.ok(err instanceof DataSchemaMismatchError);
    assert.match(err.message, new RegExp(`column s: table ${bad.name}: a value is not valid UTF-8 \\(bytes 41ff42\\)`));
    return true;
  });
  const good = await source(4, [['k', 'UInt32', 'number'], ['s', 'LowCardinality(String)', "['a', 'ü', 'a', '']"+"[number + 1]"]]);
  const out = await writeWithClickHouse(ch, io, table(good.name, good.schema, []), batch(good, { lowCardinality: ['s'] }));
  assert.deepEqual(await rowsOf(out.files, good.schema), ['{"k":"0n","s":"a"}', '{"k":"1n","s":"ü"}', '{"k":"2n","s":"a"}', '{"k":"3n","s":""}']);
});

it('leaves to the Arrow path what ClickHouse cannot store exactly as the spec requires', async () => {
  const nested = await source(2, [['k', 'UInt32', 'number'], ['arr', 'Array(Int32)', '[1, 2]']]);
  assert.match(clickhouseEncodingUnsupported(table(nested.name, nested.schema, []), nested.schema) ?? '', /column arr is a list/);
  const wide = await source(2, [['k', 'UInt32', 'number'], ['u64', 'UInt64', 'number']]);
  assert.match(clickhouseEncodingUnsupported(table(wide.name, wide.schema, []), wide.schema) ?? '', /decimal\(20,0\)/);
  const flat = await source(2, [['k', 'UInt32', 'number']]);
  assert.match(clickhouseEncodingUnsupported(table(flat.name, flat.schema, [{ sourceColumn: 'k', transform: 'bucket[4]' }]), flat.schema) ?? '', /bucket\[4\]/);
});

it('adopting a foreign Parquet file checks every column against its Iceberg type', async () => {
  const src = await source(2, [['k', 'UInt32', 'number'], ['s', 'String', "'x'"]]);
  const parquet = async (select: string) => {
    const res = await ch.client.exec({ query: `SELECT ${select} FROM ${src.name} FORMAT Parquet` });
    const chunks: Buffer[] = [];
    for await (const x of res.stream) chunks.push(x as Buffer);
    return Buffer.concat(chunks);
  };
  // k is an Iceberg long (UInt32 widens): a Float64 column is refused, naming it.
  assert.throws(() => adoptParquet(Buffer.from(''), src.schema), /not a Parquet file/);
  await parquet('toFloat64(k) AS k, s').then((p) => assert.throws(() => adoptParquet(p, src.schema), /column k: .*stored as DOUBLE, expected INT64/));
  await parquet('toInt64(k) AS k, toNullable(s) AS s').then((p) => assert.throws(() => adoptParquet(p, src.schema), /column s: .*OPTIONAL but the field is required/));
  await parquet('toInt64(k) AS k').then((p) => assert.throws(() => adoptParquet(p, src.schema), /expected exactly the flat columns k, s/));
  const ok = adoptParquet(await parquet('toInt64(k) AS k, s'), src.schema);
  const meta = table(src.name, src.schema, []);
  const uri = `${meta.location}/data/adopted.parquet`;
  await io.write(uri, ok);
  assert.deepEqual([...(await readDataFile(io, uri, src.schema.fields))].map((r) => [r!.k, r!.s]), [[0n, 'x'], [1n, 'x']]);
});
