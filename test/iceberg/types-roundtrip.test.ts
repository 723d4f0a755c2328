// Every supported ClickHouse type survives ClickHouse → Iceberg → ClickHouse:
// rows read back through chDB's icebergLocal equal the rows the generated
// SELECT list produced from the source.

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createFileIO, newTableLocation, newTableMetadata, prepareAppend, writeDataFiles } from '../../src/iceberg';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { openChdb, randomName, warehouseDir, type Chdb } from './helpers';

let ch: Chdb;
before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

const COLUMNS: Array<[string, string, string]> = [
  // name, ClickHouse type, value expression over `number`
  ['k', 'UInt32', 'number'],
  ['s', 'String', "concat('row ', toString(number), ' ☃ — a long-ish string for truncation')"],
  ['fs', 'FixedString(3)', "toFixedString(['USD', 'EU', ''][number % 3 + 1], 3)"],
  ['lc', 'LowCardinality(String)', "['x', 'y'][number % 2 + 1]"],
  ['lcn', 'LowCardinality(Nullable(String))', "if(number % 3 = 0, NULL, 'z')"],
  ['i8', 'Int8', 'toInt8(number % 256 - 128)'],
  ['i16', 'Int16', 'toInt16(-number * 7)'],
  ['i32', 'Int32', 'toInt32(number * 100000 - 2000000000)'],
  ['i64', 'Int64', 'toInt64(number) * -9000000000000'],
  ['u8', 'UInt8', 'toUInt8(number % 256)'],
  ['u16', 'UInt16', 'toUInt16(65535 - number)'],
  ['u32', 'UInt32', 'toUInt32(4294967295 - number)'],
  ['u64', 'UInt64', "toUInt64('18446744073709551615') - number"],
  ['f32', 'Float32', "if(number = 5, nan, toFloat32(number) / 3)"],
  ['f64', 'Float64', "if(number = 6, -0., if(number = 7, inf, number / 7))"],
  ['d9', 'Decimal(9, 2)', 'toDecimal32(number / 3, 2)'],
  ['d38', 'Decimal(38, 10)', "toDecimal128(number, 10) * toDecimal128('12345678901234567890.5', 10)"],
  ['b', 'Bool', 'number % 2 = 0'],
  ['dt', 'Date', "toDate('2020-02-28') + number"],
  ['d32', 'Date32', "toDate32('1900-01-01') + number * 1000"],
  ['tsec', 'DateTime', "toDateTime('2026-03-29 00:59:59', 'UTC') + number"],
  ['ttz', "DateTime('Asia/Tokyo')", "toDateTime('2026-03-29 00:59:59', 'Asia/Tokyo') + number * 3600"],
  ['t3', 'DateTime64(3)', "toDateTime64('2026-11-22 10:00:00.123', 3, 'UTC') + toIntervalMillisecond(number)"],
  ['t6', "DateTime64(6, 'UTC')", "toDateTime64('1969-12-31 23:59:59.999999', 6, 'UTC') + toIntervalMicrosecond(number)"],
  ['t6ny', "DateTime64(6, 'America/New_York')", "toDateTime64('2026-11-01 01:30:00.5', 6, 'America/New_York') + toIntervalHour(number)"],
  ['id', 'UUID', "reinterpretAsUUID(reverse(unhex(lpad(hex(number), 32, '0'))))"],
  ['ni', 'Nullable(Int32)', 'if(number % 4 = 0, NULL, toInt32(number))'],
  ['nt', 'Nullable(DateTime64(6))', "if(number % 4 = 1, NULL, toDateTime64('2026-01-01 00:00:00', 6, 'UTC'))"],
  ['e', "Enum8('buy' = 1, 'sell' = -1)", "if(number % 2 = 0, 'buy', 'sell')"],
  ['arr', 'Array(Nullable(Int8))', "[toInt8(1), NULL, toInt8(number % 100)]"],
  ['arr2', 'Array(Array(String))', "[['a'], [], [toString(number)]]"],
  ['m', 'Map(LowCardinality(String), Decimal(10, 2))', "map('p', toDecimal64(number, 2), 'q', toDecimal64(0.5, 2))"],
  ['mu', 'Map(UInt16, Array(UInt8))', 'map(toUInt16(number), [toUInt8(1), toUInt8(2)])'],
];

it('round-trips every supported ClickHouse type through icebergLocal', async () => {
  const source = randomName('alltypes');
  await ch.command(`CREATE TABLE ${source} (${COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')}) ENGINE = MergeTree ORDER BY k`);
  await ch.command(`INSERT INTO ${source} SELECT ${COLUMNS.map(([n, , e]) => `${e} AS ${n}`).join(', ')} FROM numbers(50)`);
  const columns = await ch.rows<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${source}' ORDER BY position`);
  const { schema, select } = icebergSchemaFromClickHouse(source, columns);
  assert.equal(schema.fields.length, COLUMNS.length);

  const io = createFileIO({});
  const location = newTableLocation(`file://${warehouseDir('types')}`, 'cold', source);
  const meta = newTableMetadata({ location, schema, partitionBy: [{ sourceColumn: 'k', transform: 'bucket[4]' }, { sourceColumn: 's', transform: 'bucket[3]' }] });
  const files = await writeDataFiles(io, meta, await ch.arrow(`SELECT ${select.join(', ')} FROM ${source}`));
  assert.ok(files.length > 4 && files.length <= 12, `one file per (k, s) bucket pair, got ${files.length}`);
  await prepareAppend(io, { metadata: meta, metadataUri: null }, files, {});

  const expected = await ch.rows(`SELECT ${select.join(', ')} FROM ${source} ORDER BY k`);
  const got = await ch.rows(`SELECT * FROM icebergLocal('${location.slice('file://'.length)}') ORDER BY k`);
  assert.equal(got.length, 50);
  for (let i = 0; i < expected.length; i++) assert.deepEqual(got[i], expected[i], `row ${i}`);

  // Each row sits in the bucket ClickHouse's own Iceberg bucket function (Murmur3, Appendix B) assigns it.
  const misplaced = await ch.rows<{ c: string }>(`SELECT toString(count()) AS c FROM icebergLocal('${location.slice('file://'.length)}')
    WHERE extract(_path, 'k_bucket=(\\d+)') != toString(icebergBucket(4, toInt64(k)))
       OR extract(_path, 's_bucket=(\\d+)') != toString(icebergBucket(3, s))`);
  assert.deepEqual(misplaced, [{ c: '0' }]);
});
