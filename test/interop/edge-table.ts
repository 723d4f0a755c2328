// The differential pruning test's source: a ClickHouse table holding every type coldtier maps, with the edge values
// readers get wrong (integer extremes, UUIDs on both sides of the signed-long midpoint, ±0.0, NaN, ±Inf, subnormals,
// 1969/1970 and far-future timestamps, empty, multi-byte and long strings, nulls), spread so that each small file
// holds one or two values per column (tight bounds, so readers prune), plus two files mixing everything.

export type Kind = 'int' | 'long' | 'decimal' | 'float' | 'double' | 'bool' | 'date' | 'ts' | 'string' | 'uuid' | 'fixed';

export interface EdgeColumn {
  name: string;
  /** ClickHouse type of the source column. */
  ch: string;
  kind: Kind;
  /** decimal(p,s) / fixed length, for casts in the readers' SQL. */
  precision?: number;
  scale?: number;
  /** Values as literal text, in ascending order (ties allowed: -0.0 and 0.0); 'NULL' and 'nan' sort nowhere. */
  values: string[];
  /** Literals near the extremes that no row holds, for <, =, > around them. */
  around?: string[];
}

const long = (n: number) => 'é'.repeat(n);
export const EDGE_COLUMNS: EdgeColumn[] = [
  { name: 'i8', ch: 'Int8', kind: 'int', values: ['-128', '-1', '0', '127'], around: ['-127', '126'] },
  { name: 'u16', ch: 'UInt16', kind: 'int', values: ['0', '32768', '65535'], around: ['1', '65534'] },
  { name: 'i32', ch: 'Int32', kind: 'int', values: ['-2147483648', '-1', '0', '1', '2147483647'], around: ['-2147483647', '2147483646'] },
  { name: 'u32', ch: 'UInt32', kind: 'long', values: ['0', '2147483648', '4294967295'], around: ['4294967294'] },
  { name: 'i64', ch: 'Int64', kind: 'long', values: ['-9223372036854775808', '-1', '0', '9223372036854775807'], around: ['-9223372036854775807', '9223372036854775806'] },
  { name: 'f32', ch: 'Float32', kind: 'float', values: ['-inf', '-3.4028234663852886e+38', '-1.5', '-0.0', '0.0', '1.401298464324817e-45', '1.5', '3.4028234663852886e+38', 'inf', 'nan'] },
  { name: 'f64', ch: 'Float64', kind: 'double', values: ['-inf', '-1.7976931348623157e+308', '-0.0', '0.0', '5e-324', '2.2250738585072014e-308', '1.5', 'inf', 'nan'], around: ['-5e-324', '1e-300'] },
  { name: 'nf', ch: 'Nullable(Float64)', kind: 'double', values: ['-0.0', '0.0', '2.5', 'nan', 'NULL'] },
  { name: 'd9', ch: 'Decimal(9, 2)', kind: 'decimal', precision: 9, scale: 2, values: ['-9999999.99', '0.00', '0.01', '9999999.99'], around: ['-9999999.98', '9999999.98'] },
  { name: 'd18', ch: 'Decimal(18, 8)', kind: 'decimal', precision: 18, scale: 8, values: ['-9999999999.99999999', '0.00000000', '1.50000000', '9999999999.99999999'] },
  { name: 'd38', ch: 'Decimal(38, 10)', kind: 'decimal', precision: 38, scale: 10, values: ['-9999999999999999999999999999.9999999999', '0.0000000000', '9999999999999999999999999999.9999999999'] },
  { name: 'b', ch: 'Bool', kind: 'bool', values: ['false', 'true'] },
  { name: 'dt', ch: 'Date', kind: 'date', values: ['1970-01-01', '2000-02-29', '2149-06-06'] },
  { name: 'd32', ch: 'Date32', kind: 'date', values: ['1900-01-01', '1969-12-31', '1970-01-01', '2299-12-31'], around: ['1900-01-02', '2299-12-30'] },
  { name: 'ts', ch: "DateTime64(6, 'UTC')", kind: 'ts', values: ['1900-01-01 00:00:00.000000', '1969-12-31 23:59:59.999999', '1970-01-01 00:00:00.000000', '1970-01-01 00:00:00.000001', '2026-11-22 10:00:00.123456', '2299-12-31 23:59:59.999999'], around: ['1969-12-31 23:59:59.999998', '2299-12-31 23:59:59.999998'] },
  { name: 'tsec', ch: "DateTime('UTC')", kind: 'ts', values: ['1970-01-01 00:00:00.000000', '2038-01-19 03:14:08.000000', '2106-02-07 06:28:15.000000'] },
  { name: 'nts', ch: "Nullable(DateTime64(6, 'UTC'))", kind: 'ts', values: ['1969-12-31 23:59:59.999999', '2299-12-31 23:59:59.999999', 'NULL'] },
  { name: 's', ch: 'String', kind: 'string', values: ['', 'a', 'a\'b\\c', `x${'y'.repeat(300)}`, 'ÿ', long(40), '🧊 ice'] },
  { name: 'ns', ch: 'Nullable(String)', kind: 'string', values: ['', 'é', 'NULL'] },
  { name: 'fs', ch: 'FixedString(3)', kind: 'fixed', precision: 3, values: ['AAA', 'EUR', 'USD', 'zzz'] },
  { name: 'id', ch: 'UUID', kind: 'uuid', values: ['00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-000000000001', '7fffffff-ffff-ffff-ffff-ffffffffffff', '80000000-0000-4000-8000-000000000001', 'ffffffff-ffff-ffff-ffff-ffffffffffff'] },
  { name: 'nid', ch: 'Nullable(UUID)', kind: 'uuid', values: ['00000000-0000-4000-8000-000000000001', 'ffffffff-ffff-4fff-bfff-ffffffffffff', 'NULL'] },
];

/** Source rows: FILES files of ROWS_PER_FILE rows; k is the row key, file j holds k in [j*R, (j+1)*R). */
export const FILES = 30;
export const ROWS_PER_FILE = 8;

function chLiteral(c: EdgeColumn, v: string): string {
  if (v === 'NULL') return `CAST(NULL AS ${c.ch})`;
  const q = `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `CAST(${q} AS ${c.ch})`;
}

/**
 * The value index of column `c` in row `number`: most files hold one or two values (tight bounds, one of them a
 * file of only -0.0 or only 0.0, the dictionary filter's trigger), the last two files mix all values.
 */
function valueIndex(c: number, len: number): string {
  const j = `intDiv(number, ${ROWS_PER_FILE})`;
  return `multiIf(${j} >= ${FILES - 2}, number % ${len}, ${j} % 3 = 0, (${j} + ${c}) % ${len}, (${j} + ${c} + (number % 4 = 3)) % ${len})`;
}

/** The source table; `extra` column definitions go last (e.g. an offload watermark). */
export function edgeTableDdl(name: string, extra: string[] = []): string {
  return `CREATE TABLE ${name} (${['k UInt32', ...EDGE_COLUMNS.map((c) => `${c.name} ${c.ch}`), ...extra].join(', ')}) ENGINE = MergeTree ORDER BY k`;
}

/** Inserts rows k in [from, from + count) (the pattern repeats every FILES files), and `sequence` = k when asked. */
export function edgeTableInsert(name: string, o: { from?: number; count?: number; sequence?: boolean } = {}): string {
  const exprs = EDGE_COLUMNS.map((c, i) => `[${c.values.map((v) => chLiteral(c, v)).join(', ')}][${valueIndex(i, c.values.length)} + 1] AS ${c.name}`);
  const cols = ['k', ...EDGE_COLUMNS.map((c) => c.name), ...(o.sequence ? ['sequence'] : [])];
  const from = o.from ?? 0;
  const rows = `(SELECT number % ${FILES * ROWS_PER_FILE} AS number, number AS n FROM numbers(${from}, ${o.count ?? FILES * ROWS_PER_FILE}))`;
  return `INSERT INTO ${name} (${cols.join(', ')}) SELECT toUInt32(n) AS k, ${exprs.join(', ')}${o.sequence ? ', toInt64(n) AS sequence' : ''} FROM ${rows}`;
}
