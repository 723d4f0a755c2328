// ClickHouse's side of compaction: the queries that read a group's small Iceberg data files (the exact list the
// manifests name, through dataFilesFunction) and have ClickHouse sort them by the table's sort order and encode them
// as one zstd Parquet file, on its own cores. Adopting those bytes as an Iceberg data file (field ids, metrics) is
// the Iceberg library's writeAdoptedFile; src/activities/maintenance/clickhouse-compact.ts puts the two together.

import { currentSchema, decimalParams, fixedLength, type NestedField, type PrimitiveType, type Schema, type SortOrder, type TableMetadata } from '../iceberg';
import { quote, type ClickHouse } from './client';
import { DATA_FILES_SETTING_VALUES, DATA_FILES_SETTINGS, dataFilesFunction } from './data-files';
import type { IcebergAccess } from './federation';
import { clickhouseEncodingUnsupported, encodeParquet, parquetSelect, type ClickHouseBatch } from './parquet-export';
import { quoteIdent } from './schema/clickhouse-type';

/** The ClickHouse type a column of Iceberg type `f` is read as from a data file (Nullable when optional). */
function readType(f: NestedField): string {
  const t = f.type as PrimitiveType;
  const dec = decimalParams(t);
  const fixed = fixedLength(t);
  const base = dec
    ? `Decimal(${dec.precision}, ${dec.scale})`
    : fixed !== undefined
      ? `FixedString(${fixed})`
      : ({ boolean: 'Bool', int: 'Int32', long: 'Int64', float: 'Float32', double: 'Float64', date: 'Date32', timestamptz: "DateTime64(6, 'UTC')", string: 'String', uuid: 'UUID' } as Record<string, string>)[t];
  if (!base) throw new Error(`column ${f.name}: no ClickHouse read type for Iceberg ${t}`);
  return f.required ? base : `Nullable(${base})`;
}

/** The `structure` argument of the table function: every column of `schema`, as read from a data file. */
export function readStructure(schema: Schema): string {
  return schema.fields.map((f) => `${quoteIdent(f.name)} ${readType(f)}`).join(', ');
}

/** The table's default sort order, when it sorts by anything. */
export function defaultSortOrder(meta: TableMetadata): SortOrder | undefined {
  const order = meta['sort-orders'].find((o) => o['order-id'] === meta['default-sort-order-id']);
  return order && order.fields.length ? order : undefined;
}

/** The ORDER BY list for `order` (identity fields only; see compactionUnsupported), or '' for an unsorted table. */
export function orderByList(schema: Schema, order: SortOrder | undefined): string {
  return (order?.fields ?? [])
    .map((sf) => {
      const col = schema.fields.find((f) => f.id === sf['source-id'])!;
      return `${quote(col.name)} ${sf.direction === 'desc' ? 'DESC' : 'ASC'} NULLS ${sf['null-order'] === 'nulls-first' ? 'FIRST' : 'LAST'}`;
    })
    .join(', ');
}

/**
 * Why ClickHouse cannot compact this table exactly (so the parquet-wasm path must), or undefined when it can: the
 * offload encoder's rules (flat columns of types ClickHouse writes as the spec requires, partition transforms it
 * computes), plus what reading old files by column name needs (no column renamed since a file was written, files
 * of the current partition spec, Parquet files at file:// or s3:// names without glob characters) and a sort order
 * of identity fields.
 */
export function compactionUnsupported(meta: TableMetadata, files: Array<{ file_path: string; file_format: string; spec_id: number }>): string | undefined {
  const schema = currentSchema(meta);
  const encoding = clickhouseEncodingUnsupported(meta, schema);
  if (encoding) return encoding;
  for (const old of meta.schemas) {
    for (const f of old.fields) {
      const now = schema.fields.find((c) => c.id === f.id);
      if (now && now.name !== f.name) return `column ${now.name} was renamed (older files call it ${f.name}); ClickHouse reads Parquet columns by name`;
    }
  }
  for (const sf of defaultSortOrder(meta)?.fields ?? []) {
    const col = schema.fields.find((f) => f.id === sf['source-id']);
    if (!col) return `sort field ${sf['source-id']} is not a column of the current schema`;
    if (sf.transform !== 'identity') return `the sort order uses ${sf.transform}(${col.name})`;
  }
  const spec = meta['default-spec-id'];
  for (const f of files) {
    if (f.file_format.toUpperCase() !== 'PARQUET') return `data file ${f.file_path} is ${f.file_format}`;
    if (f.spec_id !== spec) return `data file ${f.file_path} has partition spec ${f.spec_id}, not the current ${spec}`;
    if (!/^(file|s3):\/\//.test(f.file_path)) return `data file ${f.file_path} is neither file:// nor s3://`;
    if (/[{}*?,\\]/.test(f.file_path)) return `data file ${f.file_path} has a character ClickHouse reads as a glob`;
  }
  return undefined;
}

/** What compactGroupParquet needs about the table and the group. */
export interface CompactGroup {
  /** The table's name in coldtier's registry (for error messages). */
  table: string;
  meta: TableMetadata;
  /** The group's data files (all file:// or all s3://). */
  locations: string[];
  access: IcebergAccess;
  floatDictionary: boolean;
}

function groupBatch(g: CompactGroup): { batch: ClickHouseBatch; from: string } {
  const schema = currentSchema(g.meta);
  const from = dataFilesFunction(g.locations, g.access, readStructure(schema));
  const batch: ClickHouseBatch = {
    table: g.table, src: from, select: schema.fields.map((f) => quoteIdent(f.name)), where: { sql: '1', params: {} }, sortBy: [], uniqueKey: [],
    schema, targetFileSizeBytes: 0, sortOrderId: 0, floatDictionary: g.floatDictionary,
  };
  return { batch, from };
}

/** Rows and NaNs per float/double field id of the group's files, counted by ClickHouse. */
export async function countGroup(ch: ClickHouse, g: CompactGroup): Promise<{ rows: number; nans: Record<number, number> }> {
  const { batch, from } = groupBatch(g);
  const floats = batch.schema.fields.filter((f) => f.type === 'float' || f.type === 'double');
  const [r] = await ch.json<Record<string, string>>(
    `SELECT ${['toString(count()) AS n', ...floats.map((f, i) => `toString(countIf(isNaN(${quote(f.name)}))) AS f${i}`)].join(', ')} FROM ${from} SETTINGS ${DATA_FILES_SETTINGS}`,
  );
  return { rows: Number(r?.n ?? 0), nans: Object.fromEntries(floats.map((f, i) => [f.id, Number(r?.[`f${i}`] ?? 0)])) };
}

/** The group's rows, sorted by the table's sort order, as one Parquet file (ClickHouse's encoder, zstd). */
export async function compactGroupParquet(ch: ClickHouse, g: CompactGroup): Promise<Buffer> {
  const { batch, from } = groupBatch(g);
  const order = orderByList(batch.schema, defaultSortOrder(g.meta));
  const exprs = batch.schema.fields.map((f) => quoteIdent(f.name));
  return encodeParquet(ch, batch, `SELECT ${parquetSelect(batch, exprs)} FROM ${from}${order ? ` ORDER BY ${order}` : ''} FORMAT Parquet`, {}, DATA_FILES_SETTING_VALUES);
}
