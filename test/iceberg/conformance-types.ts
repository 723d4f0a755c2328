// A ClickHouse source table with every type the writer maps, plus nulls, empty
// strings, unicode, extreme values and µs timestamps (before and after the
// epoch), shaped like a bronze feed (ingested_at, sequence) so the real
// offload path can take it. Used by test/conformance.test.ts.

export const ALL_TYPES = {
  rows: 60,
  columns: [
    // name, ClickHouse type, value expression over `number`
    ['k', 'UInt32', 'number'],
    ['s', 'String', "multiIf(number % 7 = 0, '', number % 7 = 1, 'emoji 🧊 and ☃ — \"quoted\" \\\\ back\\nslash', concat('row ', toString(number)))"],
    ['fs', 'FixedString(3)', "toFixedString(['USD', 'EU', ''][number % 3 + 1], 3)"],
    ['lc', 'LowCardinality(String)', "['x', 'ÿ', ''][number % 3 + 1]"],
    ['lcn', 'LowCardinality(Nullable(String))', "if(number % 3 = 0, NULL, 'z')"],
    ['i8', 'Int8', 'toInt8(number % 256 - 128)'],
    ['i16', 'Int16', 'toInt16(-number * 7)'],
    ['i32', 'Int32', "multiIf(number = 1, -2147483648, number = 2, 2147483647, toInt32(number * 1000))"],
    ['i64', 'Int64', "multiIf(number = 1, toInt64('-9223372036854775808'), number = 2, toInt64('9223372036854775807'), toInt64(number) * -9000000000000)"],
    ['u8', 'UInt8', 'toUInt8(255 - number)'],
    ['u16', 'UInt16', 'toUInt16(65535 - number)'],
    ['u32', 'UInt32', 'toUInt32(4294967295 - number)'],
    ['u64', 'UInt64', "toUInt64('18446744073709551615') - number"],
    ['f32', 'Float32', "multiIf(number = 5, nan, number = 6, -inf, number = 7, toFloat32(3.4028235e38), toFloat32(number) / 3)"],
    ['f64', 'Float64', "multiIf(number = 6, -0., number = 7, inf, number = 8, 5e-324, number / 7)"],
    ['d9', 'Decimal(9, 2)', "if(number = 3, toDecimal32('-9999999.99', 2), toDecimal32(number / 3, 2))"],
    ['d18', 'Decimal(18, 8)', "toDecimal64(number / 7, 8)"],
    ['d38', 'Decimal(38, 10)', "if(number = 4, toDecimal128('9999999999999999999999999999.9999999999', 10), toDecimal128(number, 10) * 1000000007)"],
    ['b', 'Bool', 'number % 2 = 0'],
    ['dt', 'Date', "toDate('1970-01-01') + number * 1000"],
    ['d32', 'Date32', "if(number = 9, toDate32('2299-12-31'), toDate32('1900-01-01') + number * 1000)"],
    ['tsec', 'DateTime', "toDateTime('2026-03-29 00:59:59', 'UTC') + number"],
    ['ttz', "DateTime('Asia/Tokyo')", "toDateTime('2026-03-29 00:59:59', 'Asia/Tokyo') + number * 3600"],
    ['t3', 'DateTime64(3)', "toDateTime64('2026-11-22 10:00:00.123', 3, 'UTC') + toIntervalMillisecond(number)"],
    ['t6', "DateTime64(6, 'UTC')", "toDateTime64('1969-12-31 23:59:59.999990', 6, 'UTC') + toIntervalMicrosecond(number * 3)"],
    ['t6ny', "DateTime64(6, 'America/New_York')", "toDateTime64('2026-11-01 01:30:00.000001', 6, 'America/New_York') + toIntervalHour(number)"],
    ['id', 'UUID', "if(number = 0, toUUID('ffffffff-ffff-ffff-ffff-ffffffffffff'), generateUUIDv4(number))"],
    ['ni', 'Nullable(Int32)', 'if(number % 4 = 0, NULL, toInt32(number))'],
    ['nt', 'Nullable(DateTime64(6))', "if(number % 4 = 1, NULL, toDateTime64('2026-01-01 00:00:00.000007', 6, 'UTC'))"],
    ['ns', 'Nullable(String)', "multiIf(number % 5 = 0, NULL, number % 5 = 1, '', 'ñ')"],
    ['e', "Enum8('buy' = 1, 'sell' = -1)", "if(number % 2 = 0, 'buy', 'sell')"],
    ['arr', 'Array(Nullable(Int8))', "if(number % 6 = 0, [], [toInt8(1), NULL, toInt8(number % 100)])"],
    ['arr2', 'Array(Array(String))', "[['a'], [], [toString(number), '']]"],
    ['m', 'Map(LowCardinality(String), Decimal(10, 2))', "if(number % 6 = 1, map(), map('p', toDecimal64(number, 2), 'q', toDecimal64(0.5, 2)))"],
    ['mu', 'Map(UInt16, Array(UInt8))', 'map(toUInt16(number), [toUInt8(1), toUInt8(2)])'],
    ['ingested_at', "DateTime64(6, 'UTC')", 'now64(6) - toIntervalSecond(60)'],
    ['sequence', 'Int64', 'toInt64(number)'],
  ] as Array<[string, string, string]>,
};

/** The flat columns ClickHouse's Parquet encoder writes exactly as Iceberg requires (no lists/maps, no UInt64 → decimal(20,0)). */
export const FLAT_TYPES = ALL_TYPES.columns.filter(([n, t]) => !/^(Array|Map)/.test(t) && n !== 'u64');

export const allTypesDdl = (name: string, columns = ALL_TYPES.columns) =>
  `CREATE TABLE ${name} (${columns.map(([n, t]) => `${n} ${t}`).join(', ')}) ENGINE = MergeTree ORDER BY k`;

export const allTypesInsert = (name: string, columns = ALL_TYPES.columns) =>
  `INSERT INTO ${name} SELECT ${columns.map(([n, , e]) => `${e} AS ${n}`).join(', ')} FROM numbers(${ALL_TYPES.rows})`;
