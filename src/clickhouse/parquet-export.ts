// ClickHouse's side of the ClickHouse-encoded write path: the queries that count a batch's rows per Iceberg
// partition and have ClickHouse sort and encode each partition as zstd Parquet (`FORMAT Parquet`, on its own cores).
// Turning those bytes into Iceberg data files (field ids in the footer, metrics) is the Iceberg library's
// writeAdoptedFile; src/activities/offload/clickhouse-write.ts puts the two together.

import { ConfigError } from '../config/errors';
import { decimalParams, decimalRequiredBytes, defaultSpec, DataSchemaMismatchError, fixedLength, parseTransform, type IcebergValue, type PrimitiveType, type Schema, type TableMetadata } from '../iceberg';
import { quote, type ClickHouse } from './client';
import { quoteIdent } from './schema/clickhouse-type';

/** Settings for ClickHouse's Parquet output: Iceberg's physical types, zstd, no bloom filters (Iceberg's default). */
export const PARQUET_SETTINGS = {
  output_format_parquet_compression_method: 'zstd',
  output_format_parquet_string_as_string: 1,
  output_format_parquet_fixed_string_as_fixed_byte_array: 1,
  output_format_parquet_datetime_as_uint32: 0,
  output_format_parquet_date_as_uint16: 0,
  output_format_parquet_write_bloom_filter: 0,
} as const;

const PLAIN: ReadonlySet<string> = new Set(['boolean', 'int', 'long', 'float', 'double', 'date', 'timestamptz', 'string', 'uuid']);

/**
 * Why this path cannot write `schema` partitioned by the table's default spec exactly as the spec requires, or
 * undefined when it can: flat columns of types ClickHouse stores as Iceberg maps them (decimals up to 18 digits as
 * unscaled integers, wider ones only where ClickHouse's 16-byte decimal is the spec's minimum width), and partition
 * transforms ClickHouse computes exactly (identity, year, month, day, hour).
 */
export function clickhouseEncodingUnsupported(meta: TableMetadata, schema: Schema): string | undefined {
  for (const f of schema.fields) {
    if (typeof f.type !== 'string') return `column ${f.name} is a ${f.type.type}`;
    const dec = decimalParams(f.type);
    if (dec && dec.precision > 18 && decimalRequiredBytes(dec.precision) !== 16) return `column ${f.name} is decimal(${dec.precision},${dec.scale}), which ClickHouse stores wider than the spec allows`;
    if (!dec && fixedLength(f.type) === undefined && !PLAIN.has(f.type)) return `column ${f.name} is ${f.type}`;
  }
  for (const pf of defaultSpec(meta).fields) {
    const source = schema.fields.find((f) => f.id === pf['source-id']);
    if (!source || partitionExpr(parseTransform(pf.transform).kind, source.type as PrimitiveType, 'x') === undefined) return `partition field ${pf.name} uses ${pf.transform}`;
  }
  return undefined;
}

/** Floor division of Int64 expressions (intDiv truncates toward zero; partition transforms floor). */
const floorDiv = (e: string, d: number) => `(intDiv(${e}, toInt64(${d})) - (modulo(${e}, toInt64(${d})) < 0))`;

/** A ClickHouse expression for the Iceberg partition value of `e` (an expression of the column's Iceberg type). */
function partitionExpr(transform: string, type: PrimitiveType, e: string): string | undefined {
  const micros = `toUnixTimestamp64Micro(${e})`;
  const ts = type === 'timestamptz';
  const date = type === 'date';
  switch (transform) {
    case 'identity':
      if (date) return `toInt32(${e})`;
      if (type === 'boolean') return `toUInt8(${e})`;
      return ['int', 'long', 'string'].includes(type) ? e : undefined;
    case 'year':
      return ts || date ? `(toYear(${e}${ts ? ", 'UTC'" : ''}) - 1970)` : undefined;
    case 'month':
      return ts || date ? `((toYear(${e}${ts ? ", 'UTC'" : ''}) - 1970) * 12 + toMonth(${e}${ts ? ", 'UTC'" : ''}) - 1)` : undefined;
    case 'day':
      return ts ? floorDiv(micros, 86_400_000_000) : date ? `toInt32(${e})` : undefined;
    case 'hour':
      return ts ? floorDiv(micros, 3_600_000_000) : undefined;
    default:
      return undefined;
  }
}

export function partitionValue(transform: string, type: PrimitiveType, v: string | null): IcebergValue | null {
  if (v === null) return null;
  if (transform !== 'identity') return Number(v);
  if (type === 'long') return BigInt(v);
  if (type === 'string') return v;
  if (type === 'boolean') return v !== '0';
  return Number(v);
}

export interface ClickHouseBatch {
  table: string;
  /** `db`.`table` of the source. */
  src: string;
  /** SELECT list from icebergSchemaFromClickHouse (`expr AS name` or `name`), in schema field order. */
  select: string[];
  /** The batch's range predicate and its parameters. */
  where: { sql: string; params: Record<string, string> };
  /** Columns of the table's sort order (empty: unsorted) and a unique key that makes the order total (the watermark). */
  sortBy: string[];
  uniqueKey: string[];
  /** The schema to write with (current, or the evolved one this append adds). */
  schema: Schema;
  targetFileSizeBytes: number;
  sortOrderId: number;
  /**
   * Let ClickHouse dictionary-encode a batch that has float/double columns (table property
   * coldtier.write.parquet.float-dictionary). ClickHouse has only a file-wide switch, so without it no column of such
   * a batch is dictionary-encoded: Iceberg Java's dictionary filter drops -0.0 rows (docs/interop.md). @default false
   */
  floatDictionary?: boolean;
  /**
   * String fields whose source column is LowCardinality: the UTF-8 check reads the column itself, so ClickHouse checks
   * each dictionary value once instead of every row's copy of it. @default none
   */
  lowCardinality?: readonly string[];
}

/** The Iceberg value expression of each field: the SELECT entry without its alias. */
export function valueExprs(b: ClickHouseBatch): string[] {
  return b.schema.fields.map((f, i) => {
    const entry = b.select[i];
    const alias = ` AS ${quoteIdent(f.name)}`;
    if (entry === quoteIdent(f.name)) return entry;
    if (entry?.endsWith(alias)) return entry.slice(0, -alias.length);
    throw new Error(`clickhouse parquet write of ${b.table}: SELECT entry ${i + 1} (${entry}) does not produce column ${f.name}`);
  });
}

/** The SELECT list ClickHouse encodes: optional fields Nullable, decimals ≤ 18 digits as their unscaled integers. */
export function parquetSelect(b: ClickHouseBatch, exprs: string[]): string {
  return b.schema.fields
    .map((f, i) => {
      let e = exprs[i]!;
      const dec = decimalParams(f.type);
      if (dec && dec.precision <= 18) {
        const int = dec.precision <= 9 ? 'Int32' : 'Int64';
        const exact = `CAST(${e} AS Decimal(${dec.precision}, ${dec.scale}))`;
        e = f.required ? `reinterpret(${exact}, '${int}')` : `if(isNull(${e}), NULL, reinterpret(assumeNotNull(${exact}), '${int}'))`;
      }
      if (!f.required) e = `toNullable(${e})`;
      return `${e} AS ${quoteIdent(f.name)}`;
    })
    .join(', ');
}

/** One partition column of a batch: its Iceberg partition field, transform, source type and ClickHouse expression. */
export interface PartitionColumn {
  name: string;
  transform: string;
  type: PrimitiveType;
  sql: string;
}

/** The partition columns of the table's default spec, as ClickHouse expressions over the batch's value expressions. */
export function partitionColumns(meta: TableMetadata, b: ClickHouseBatch, exprs: string[]): PartitionColumn[] {
  return defaultSpec(meta).fields.map((pf) => {
    const i = b.schema.fields.findIndex((f) => f.id === pf['source-id']);
    const type = b.schema.fields[i]!.type as PrimitiveType;
    const transform = parseTransform(pf.transform).kind;
    return { name: pf.name, transform, type, sql: partitionExpr(transform, type, exprs[i]!)! };
  });
}

/** The rows of one partition of a batch. */
export interface PartitionGroup {
  values: Array<string | null>;
  /** The same values hex-encoded: the per-file filter compares these, so no value is ever parsed as SQL text. */
  hex: Array<string | null>;
  rows: number;
  /** NaN count per float/double field id. */
  nans: Record<number, number>;
}

/**
 * One query over the batch: its rows per partition, NaNs per float column, and a refusal (with a sample of the
 * bytes) when a string is not UTF-8.
 */
export async function partitionGroups(ch: ClickHouse, b: ClickHouseBatch, parts: PartitionColumn[], exprs: string[]): Promise<PartitionGroup[]> {
  const strings = b.schema.fields.map((f, i) => ({ f, e: b.lowCardinality?.includes(f.name) ? quoteIdent(f.name) : exprs[i]! })).filter(({ f }) => f.type === 'string');
  const floats = b.schema.fields.map((f, i) => ({ f, e: exprs[i]! })).filter(({ f }) => f.type === 'float' || f.type === 'double');
  const summary = await ch.json<Record<string, string | null>>(
    `SELECT ${[
      ...parts.map((p, i) => `toString(${p.sql}) AS p${i}, hex(p${i}) AS h${i}`),
      'toString(count()) AS n',
      ...strings.map(({ e }, i) => `toString(sum(NOT isValidUTF8(${e}))) AS u${i}`),
      ...floats.map(({ e }, i) => `toString(countIf(isNaN(${e}))) AS f${i}`),
    ].join(', ')} FROM ${b.src} WHERE ${b.where.sql}${parts.length ? ` GROUP BY ${parts.map((_, i) => `p${i}, h${i}`).join(', ')}` : ''}`,
    b.where.params,
  );
  for (const [i, { f, e }] of strings.entries()) {
    if (summary.some((r) => Number(r[`u${i}`]) > 0)) await refuseInvalidUtf8(ch, b, f.name, e);
  }
  return summary
    .filter((r) => Number(r.n) > 0)
    .map((r) => ({
      values: parts.map((_, i) => r[`p${i}`] ?? null),
      hex: parts.map((_, i) => r[`h${i}`] ?? null),
      rows: Number(r.n),
      nans: Object.fromEntries(floats.map(({ f }, i) => [f.id, Number(r[`f${i}`])])),
    }));
}

/**
 * The Parquet bytes of one file of partition `g` (of `groups` in the batch): its rows sorted by the table's sort
 * order, rows [offset, offset+limit) when the partition is split over several files (then the unique key makes the
 * order total, as LIMIT/OFFSET needs).
 */
export async function exportPartition(ch: ClickHouse, b: ClickHouseBatch, o: { exprs: string[]; parts: PartitionColumn[]; group: PartitionGroup; groups: number; split?: { limit: number; offset: number } }): Promise<Buffer> {
  const { parts, group: g } = o;
  const filter = o.groups > 1 ? parts.map((p, i) => (g.values[i] === null ? ` AND isNull(${p.sql})` : ` AND hex(toString(${p.sql})) = {__p${i}:String}`)).join('') : '';
  const params = { ...b.where.params, ...Object.fromEntries(g.hex.flatMap((v, i) => (v === null ? [] : [[`__p${i}`, v]]))) };
  const order = [...b.sortBy, ...(o.split ? b.uniqueKey : [])].map(quote);
  const limit = o.split ? ` LIMIT ${o.split.limit} OFFSET ${o.split.offset}` : '';
  return encodeParquet(ch, b, `SELECT ${parquetSelect(b, o.exprs)} FROM ${b.src} WHERE ${b.where.sql}${filter}${order.length ? ` ORDER BY ${order.join(', ')}` : ''}${limit} FORMAT Parquet`, params);
}

/** One `FORMAT Parquet` query's bytes. A server too old for the settings gets a config error saying what to do. */
export async function encodeParquet(ch: ClickHouse, b: ClickHouseBatch, query: string, params: Record<string, string>, settings: Record<string, string | number> = {}): Promise<Buffer> {
  try {
    const floats = b.schema.fields.some((f) => f.type === 'float' || f.type === 'double');
    // Always set (1 MiB is ClickHouse's default): chDB keeps a setting for the rest of its session.
    const dictionary = { output_format_parquet_max_dictionary_size: floats && !b.floatDictionary ? 0 : 1024 * 1024 };
    const res = await ch.client.exec({ query, query_params: params, clickhouse_settings: { ...PARQUET_SETTINGS, ...dictionary, ...settings } });
    const chunks: Buffer[] = [];
    for await (const c of res.stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } catch (err) {
    const unknown = /Unknown setting '?([\w.]+)'?/.exec(err instanceof Error ? err.message : '');
    if (unknown) throw new ConfigError(`table ${b.table}: the ClickHouse server does not know the setting ${unknown[1]}, which its Parquet encoder needs; upgrade it, or set encoder: arrow in the table registry`);
    throw err;
  }
}

/** Same refusal (and message) as the Arrow path's UTF-8 check, with a sample of the offending bytes. */
async function refuseInvalidUtf8(ch: ClickHouse, b: ClickHouseBatch, column: string, e: string): Promise<never> {
  const [row] = await ch.json<{ h: string; n: string }>(`SELECT hex(substring(${e}, 1, 16)) AS h, toString(length(${e})) AS n FROM ${b.src} WHERE ${b.where.sql} AND NOT isValidUTF8(${e}) LIMIT 1`, b.where.params);
  const sample = `${(row?.h ?? '').toLowerCase()}${Number(row?.n ?? 0) > 16 ? '…' : ''}`;
  throw new DataSchemaMismatchError(
    column,
    `table ${b.table}: a value is not valid UTF-8 (bytes ${sample}); Iceberg strings must be UTF-8. Clean the column in a view over the source (e.g. toValidUTF8(${column})) or offload it as FixedString/binary`,
  );
}
