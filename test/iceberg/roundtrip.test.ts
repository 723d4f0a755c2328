// End to end: ClickHouse rows → our Parquet + Iceberg metadata → read back by
// a second, independent Iceberg reader (chDB's icebergLocal).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanupPrepared, createFileIO, currentSnapshot, findSnapshot, listDataFiles, newTableLocation, newTableMetadata, prepareAppend, readTableMetadata, serializeTableMetadata, writeDataFiles, writeVersionHint, type TableMetadata } from '../../src/iceberg';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { assertNameMapping, openChdb, randomName, warehouseDir, type Chdb } from './helpers';

const io = createFileIO({});
let ch: Chdb;

before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

const SOURCE_DDL = (name: string) => `CREATE TABLE ${name} (
  exchange_timestamp DateTime64(6, 'UTC'),
  symbol LowCardinality(String),
  price Decimal(18, 8),
  qty Float64,
  trade_id UInt64,
  side Enum8('buy' = 1, 'sell' = 2),
  note Nullable(String),
  received DateTime,
  tags Array(String),
  attrs Map(String, UInt16)
) ENGINE = MergeTree ORDER BY exchange_timestamp`;

/** n trades, one every 0.2 h from `startSql`, spanning several days. */
const INSERT = (name: string, startSql: string, offset: number, n: number) => `INSERT INTO ${name}
  SELECT ${startSql} + toIntervalMicrosecond((number + ${offset}) * 720000000),
         ['BTC', 'ETH', 'SOL'][number % 3 + 1],
         toDecimal64((number + ${offset}) / 7, 8),
         (number + ${offset}) * 1.5,
         18446744073709551615 - (number + ${offset}),
         if(number % 2 = 0, 'buy', 'sell'),
         if(number % 5 = 0, NULL, concat('note-', toString(number))),
         toDateTime('2026-01-01 00:00:00', 'UTC') + number,
         ['a', toString(number)],
         map('k', toUInt16(number % 100))
  FROM numbers(${n})`;

interface Totals { c: string; price: string; qty: number; maxId: string; nulls: string; tagCount: string; attrSum: string }
const TOTALS = `count() AS c, toString(sum(price)) AS price, sum(qty) AS qty, toString(max(trade_id)) AS maxId,
  toString(countIf(note IS NULL)) AS nulls, toString(sum(length(tags))) AS tagCount, toString(sum(attrs['k'])) AS attrSum`;

/** Process-wide chDB counter (system.events), to see that the reader pruned files. */
async function icebergEvent(name: string): Promise<number> {
  const rows = await ch.rows<{ value: string }>(`SELECT value FROM system.events WHERE event = '${name}'`);
  return Number(rows[0]?.value ?? 0);
}

async function columnsOf(name: string) {
  return ch.rows<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${name}' ORDER BY position`);
}

async function appendFrom(meta: TableMetadata, metadataUri: string, select: string[], source: string, where: string, summary: Record<string, string>) {
  const rows = await ch.arrow(`SELECT ${select.join(', ')} FROM ${source} WHERE ${where} ORDER BY exchange_timestamp`);
  const files = await writeDataFiles(io, meta, rows);
  const prepared = await prepareAppend(io, { metadata: meta, metadataUri }, files, { summary });
  await writeVersionHint(io, prepared.metadata, prepared.metadataUri);
  return { prepared, files, rows: rows.numRows };
}

describe('round trip through chDB icebergLocal', () => {
  it('writes a day-partitioned table that another reader reads back exactly, across two appends', async () => {
    const source = randomName('trades');
    await ch.command(SOURCE_DDL(source));
    await ch.command(INSERT(source, "toDateTime64('2026-11-20 00:00:00', 6, 'UTC')", 0, 500));
    await ch.command(INSERT(source, "toDateTime64('2026-11-20 00:00:00', 6, 'UTC')", 500, 300));

    const { schema, select } = icebergSchemaFromClickHouse(source, await columnsOf(source));
    const wh = warehouseDir('roundtrip');
    const location = newTableLocation(`file://${wh}`, 'cold', source);
    const created = newTableMetadata({
      location,
      schema,
      partitionBy: [{ sourceColumn: 'exchange_timestamp', transform: 'day' }],
      sortBy: [{ sourceColumn: 'exchange_timestamp' }],
    });
    const uri0 = `${location}/metadata/00000-${crypto.randomUUID()}.metadata.json`;
    await io.write(uri0, new TextEncoder().encode(serializeTableMetadata(created)));

    const cutoff = "toDateTime64('2026-11-20 00:00:00', 6, 'UTC') + toIntervalMicrosecond(500 * 720000000)";
    const first = await appendFrom(created, uri0, select, source, `exchange_timestamp < ${cutoff}`, { 'test.batch': '1' });
    assert.equal(first.rows, 500);
    assert.ok(first.files.length >= 4, `one file per day, got ${first.files.length}`);
    for (const f of first.files) {
      assert.match(f.file_path, /\/data\/exchange_timestamp_day=2026-11-\d\d\/00000-0-[0-9a-f-]{36}-\d{5}\.parquet$/);
      assert.ok(await io.exists(f.file_path));
    }
    assert.match(first.prepared.metadataUri, /\/metadata\/00001-[0-9a-f-]{36}\.metadata\.json$/);

    const tablePath = location.slice('file://'.length);
    const expect1 = (await ch.rows<Totals>(`SELECT ${TOTALS} FROM ${source} WHERE exchange_timestamp < ${cutoff}`))[0];
    const got1 = (await ch.rows<Totals>(`SELECT ${TOTALS} FROM icebergLocal('${tablePath}')`))[0];
    assert.deepEqual(got1, expect1);

    // Second append on top of the first commit.
    const second = await appendFrom(first.prepared.metadata, first.prepared.metadataUri, select, source, `exchange_timestamp >= ${cutoff}`, { 'test.batch': '2' });
    assert.equal(second.rows, 300);
    assert.match(second.prepared.metadataUri, /\/metadata\/00002-/);
    const expectAll = (await ch.rows<Totals>(`SELECT ${TOTALS} FROM ${source}`))[0];
    const gotAll = (await ch.rows<Totals>(`SELECT ${TOTALS} FROM icebergLocal('${tablePath}')`))[0];
    assert.deepEqual(gotAll, expectAll);

    // A commit that loses the catalog compare-and-swap is cleaned up, and readers never see it.
    const losing = await prepareAppend(io, { metadata: second.prepared.metadata, metadataUri: second.prepared.metadataUri }, first.files, {});
    assert.match(losing.metadataUri, /\/00003-/);
    await cleanupPrepared(io, losing);
    for (const uri of losing.writtenFiles) assert.equal(await io.exists(uri), false, uri);
    assert.deepEqual((await ch.rows<Totals>(`SELECT ${TOTALS} FROM icebergLocal('${tablePath}')`))[0], expectAll);
    await assert.rejects(prepareAppend(io, second.prepared, [], {}), /no data files/);

    // Row-by-row equality, not just aggregates.
    const cols = `toString(exchange_timestamp) AS ts, symbol, toString(price) AS price, qty, toString(trade_id) AS id, toString(side) AS side, note, toString(toDateTime64(received, 6, 'UTC')) AS received, tags, attrs`;
    const srcRows = await ch.rows(`SELECT ${cols} FROM ${source} ORDER BY exchange_timestamp`);
    const iceRows = await ch.rows(`SELECT ${cols} FROM icebergLocal('${tablePath}') ORDER BY exchange_timestamp`);
    assert.deepEqual(iceRows, srcRows);

    // Both snapshots exist, totals carried forward, ancestry intact.
    const meta = await readTableMetadata(io, second.prepared.metadataUri);
    assert.equal(meta.snapshots.length, 2);
    const cur = currentSnapshot(meta)!;
    assert.equal(cur['snapshot-id'], second.prepared.snapshotId);
    assert.equal(cur['parent-snapshot-id'], first.prepared.snapshotId);
    assert.equal(cur['sequence-number'], 2);
    assert.equal(cur.summary['total-records'], '800');
    assert.equal(cur.summary['added-records'], '300');
    assert.equal(cur.summary['total-data-files'], String(first.files.length + second.files.length));
    assert.equal(findSnapshot(meta, (s) => s.summary['test.batch'] === '1')?.['snapshot-id'], first.prepared.snapshotId);
    assert.equal(meta['metadata-log'].at(-1)?.['metadata-file'], first.prepared.metadataUri);
    assert.equal(meta.refs.main?.['snapshot-id'], second.prepared.snapshotId);

    // Our own reader sees every data file of both snapshots.
    const live = await listDataFiles(io, meta);
    assert.equal(live.length, first.files.length + second.files.length);
    assert.equal(live.reduce((a, f) => a + f.record_count, 0), 800);
    assert.equal((await listDataFiles(io, meta, first.prepared.snapshotId)).length, first.files.length);

    // A partition-pruned query returns exactly the rows of the range.
    const range = "exchange_timestamp >= toDateTime64('2026-11-21 00:00:00', 6, 'UTC') AND exchange_timestamp < toDateTime64('2026-11-22 00:00:00', 6, 'UTC')";
    const expectDay = await ch.rows(`SELECT count() AS c, toString(sum(price)) AS p FROM ${source} WHERE ${range}`);
    const prunedBefore = await icebergEvent('IcebergPartitionPrunedFiles');
    const gotDay = await ch.rows(`SELECT count() AS c, toString(sum(price)) AS p FROM icebergLocal('${tablePath}') WHERE ${range} SETTINGS use_iceberg_partition_pruning = 1`);
    assert.deepEqual(gotDay, expectDay);
    assert.equal((expectDay[0] as { c: string }).c, '120');
    assert.ok((await icebergEvent('IcebergPartitionPrunedFiles')) > prunedBefore, 'the reader skipped other days by partition value');

    // Column bounds are right: a point lookup is answered correctly while files are skipped by min/max.
    // (ClickHouse 26.7 prunes by double/long/decimal(<=18) bounds, not by decimal(20,0), so look up qty.)
    const minMaxBefore = await icebergEvent('IcebergMinMaxIndexPrunedFiles');
    const point = await ch.rows(`SELECT toString(trade_id) AS id, symbol FROM icebergLocal('${tablePath}') WHERE qty = 1165.5`);
    assert.deepEqual(point, await ch.rows(`SELECT toString(trade_id) AS id, symbol FROM ${source} WHERE qty = 1165.5`));
    assert.equal(point.length, 1);
    assert.ok((await icebergEvent('IcebergMinMaxIndexPrunedFiles')) > minMaxBefore, 'the reader skipped files by column bounds');
  });

  it('writes an unpartitioned table and rolls files at the target size, every row exactly once', async () => {
    const source = randomName('plain');
    await ch.command(SOURCE_DDL(source));
    await ch.command(INSERT(source, "toDateTime64('2026-11-20 00:00:00', 6, 'UTC')", 0, 20000));
    const { schema, select } = icebergSchemaFromClickHouse(source, await columnsOf(source));
    const location = newTableLocation(`file://${warehouseDir('plain')}`, 'cold', source);
    const meta = newTableMetadata({ location, schema });
    const rows = await ch.arrow(`SELECT ${select.join(', ')} FROM ${source}`);
    const target = 64 * 1024;
    const files = await writeDataFiles(io, meta, rows, { targetFileSizeBytes: target });
    assert.ok(files.length >= 3, `expected several rolled files, got ${files.length}`);
    for (const f of files) assert.match(f.file_path, /\/data\/00000-0-[0-9a-f-]{36}-\d{5}\.parquet$/);
    assert.equal(files.reduce((a, f) => a + f.record_count, 0), 20000);
    const prepared = await prepareAppend(io, { metadata: meta, metadataUri: null }, files, {});
    assert.match(prepared.metadataUri, /\/metadata\/00000-/);
    const tablePath = location.slice('file://'.length);
    const got = await ch.rows<Totals>(`SELECT ${TOTALS} FROM icebergLocal('${tablePath}')`);
    const expected = await ch.rows<Totals>(`SELECT ${TOTALS} FROM ${source}`);
    assert.deepEqual(got, expected);
    // Exact rows, not only totals: every source row once, none invented.
    const [diff] = await ch.rows<{ missing: string; extra: string }>(`SELECT
      toString((SELECT count() FROM ${source} WHERE trade_id NOT IN (SELECT trade_id FROM icebergLocal('${tablePath}')))) AS missing,
      toString((SELECT count() - uniqExact(trade_id) FROM icebergLocal('${tablePath}'))) AS extra`);
    assert.deepEqual(diff, { missing: '0', extra: '0' });
    // The last file takes the remainder; every other file is near the target (rolled at it, not far below or above).
    const sizes = files.map((f) => f.file_size_in_bytes);
    for (const [i, size] of sizes.slice(0, -1).entries()) {
      assert.ok(size >= 0.8 * target && size <= 1.2 * target, `file ${i + 1} of ${sizes.length} is ${size} bytes, not within 20 % of the ${target}-byte target (sizes: ${sizes.join(', ')})`);
    }
    assert.ok(sizes.at(-1)! <= 1.2 * target, `the last file is ${sizes.at(-1)} bytes`);
  });

  it('writes an hour-partitioned table that icebergLocal reads back exactly and prunes by hour', async () => {
    const source = randomName('hourly');
    await ch.command(SOURCE_DDL(source));
    // 300 trades, one every 0.2 h: 60 hours, 5 trades per hour.
    await ch.command(INSERT(source, "toDateTime64('2026-11-20 00:00:00', 6, 'UTC')", 0, 300));
    const { schema, select } = icebergSchemaFromClickHouse(source, await columnsOf(source));
    const location = newTableLocation(`file://${warehouseDir('hourly')}`, 'cold', source);
    const created = newTableMetadata({ location, schema, partitionBy: [{ sourceColumn: 'exchange_timestamp', transform: 'hour' }] });
    const uri0 = `${location}/metadata/00000-${crypto.randomUUID()}.metadata.json`;
    await io.write(uri0, new TextEncoder().encode(serializeTableMetadata(created)));
    const { files, rows } = await appendFrom(created, uri0, select, source, '1', {});
    assert.equal(rows, 300);
    assert.equal(files.length, 60, 'one file per hour');
    for (const f of files) assert.match(f.file_path, /\/data\/exchange_timestamp_hour=2026-11-2\d-\d\d\/00000-0-/);
    assert.deepEqual(new Set(files.map((f) => f.record_count)), new Set([5]));

    const tablePath = location.slice('file://'.length);
    const cols = `toString(exchange_timestamp) AS ts, symbol, toString(price) AS price, qty, toString(trade_id) AS id, toString(side) AS side, note, toString(toDateTime64(received, 6, 'UTC')) AS received, tags, attrs`;
    assert.deepEqual(await ch.rows(`SELECT ${cols} FROM icebergLocal('${tablePath}') ORDER BY exchange_timestamp`), await ch.rows(`SELECT ${cols} FROM ${source} ORDER BY exchange_timestamp`));

    // Two hours of the 60: the reader plans only their files and returns exactly their rows. (An inclusive upper
    // bound: ClickHouse keeps the partition of an exclusive bound's hour, 07, although it cannot match.)
    const range = "exchange_timestamp >= toDateTime64('2026-11-21 05:00:00', 6, 'UTC') AND exchange_timestamp <= toDateTime64('2026-11-21 06:59:59.999999', 6, 'UTC')";
    const expected = await ch.rows(`SELECT ${cols} FROM ${source} WHERE ${range} ORDER BY exchange_timestamp`);
    assert.equal(expected.length, 10);
    const prunedBefore = await icebergEvent('IcebergPartitionPrunedFiles');
    const got = await ch.rows(`SELECT ${cols} FROM icebergLocal('${tablePath}') WHERE ${range} ORDER BY exchange_timestamp SETTINGS use_iceberg_partition_pruning = 1`);
    assert.deepEqual(got, expected);
    const pruned = (await icebergEvent('IcebergPartitionPrunedFiles')) - prunedBefore;
    assert.ok(pruned >= 58, `the reader skipped the other 58 hours by partition value (pruned ${pruned})`);
  });

  it('evolves the schema: a column added in ClickHouse appears, null in older files', async () => {
    const source = randomName('evolve');
    await ch.command(`CREATE TABLE ${source} (ts DateTime64(6, 'UTC'), qty Int32) ENGINE = MergeTree ORDER BY ts`);
    await ch.command(`INSERT INTO ${source} SELECT toDateTime64('2026-11-20 00:00:00', 6, 'UTC') + toIntervalHour(number), number FROM numbers(30)`);
    const v0 = icebergSchemaFromClickHouse(source, await columnsOf(source));
    const location = newTableLocation(`file://${warehouseDir('evolve')}`, 'cold', source);
    const created = newTableMetadata({ location, schema: v0.schema, partitionBy: [{ sourceColumn: 'ts', transform: 'day' }] });
    const files0 = await writeDataFiles(io, created, await ch.arrow(`SELECT ${v0.select.join(', ')} FROM ${source}`));
    const c0 = await prepareAppend(io, { metadata: created, metadataUri: null }, files0, {});

    await ch.command(`ALTER TABLE ${source} MODIFY COLUMN qty Int64`);
    await ch.command(`ALTER TABLE ${source} ADD COLUMN venue LowCardinality(String)`);
    await ch.command(`INSERT INTO ${source} SELECT toDateTime64('2026-11-22 06:00:00', 6, 'UTC') + toIntervalHour(number), 5000000000 + number, 'XNAS' FROM numbers(10)`);
    const current = c0.metadata.schemas.find((x) => x['schema-id'] === c0.metadata['current-schema-id'])!;
    const v1 = icebergSchemaFromClickHouse(source, await columnsOf(source), { previous: current });
    assert.notEqual(v1.schema, current);
    const rows = await ch.arrow(`SELECT ${v1.select.join(', ')} FROM ${source} WHERE venue != ''`);
    const files1 = await writeDataFiles(io, c0.metadata, rows, { schema: v1.schema });
    const c1 = await prepareAppend(io, { metadata: c0.metadata, metadataUri: c0.metadataUri }, files1, { schema: v1.schema });

    assert.equal(c1.metadata.schemas.length, 2);
    assert.equal(c1.metadata['current-schema-id'], 1);
    assert.equal(c1.metadata['last-column-id'], 3);
    assert.equal(c1.metadata.snapshots.at(-1)?.['schema-id'], 1);
    const got = await ch.rows<{ n: string; s: string; venues: string[]; nulls: string }>(
      `SELECT toString(count()) AS n, toString(sum(qty)) AS s, groupUniqArray(venue) AS venues, toString(countIf(venue IS NULL)) AS nulls FROM icebergLocal('${location.slice('file://'.length)}')`,
    );
    assert.deepEqual(got, [{ n: '40', s: String(435 + 10 * 5000000000 + 45), venues: ['XNAS'], nulls: '30' }]);

    // The name mapping follows: the new column is added, the existing entries are unchanged.
    const mapping0 = assertNameMapping(c0.metadata);
    assert.deepEqual(mapping0, [{ 'field-id': 1, names: ['ts'] }, { 'field-id': 2, names: ['qty'] }]);
    assert.deepEqual(assertNameMapping(c1.metadata), [...mapping0, { 'field-id': 3, names: ['venue'] }]);
    assert.deepEqual(assertNameMapping(await readTableMetadata(io, c1.metadataUri)), [...mapping0, { 'field-id': 3, names: ['venue'] }]);
  });
});
