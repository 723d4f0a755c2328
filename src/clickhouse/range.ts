import { ConfigError } from '../config/errors';
import type { TableConfig } from '../config/tables';
import { quote, type ClickHouse, type ColumnInfo } from './client';

/**
 * The watermark is a tuple of ingestion-ordered columns, by default (ingested_at, sequence). Every batch reads the
 * half-open range (lo, hi] of that tuple, and hi is always fixed by a query *before* the rows are read, so rows that
 * arrive during the read have a larger key and are taken by the next batch.
 */
export interface WatermarkKey {
  columns: string[];
  types: string[];
}

export interface Bound {
  values: string[];
  /** Microseconds since epoch of the first column, for lag and the watermark_ts column. */
  tsMicros: string;
}

export function watermarkKey(cfg: TableConfig, columns: ColumnInfo[]): WatermarkKey {
  const types = cfg.watermark.map((name) => {
    const col = columns.find((c) => c.name === name);
    if (!col) throw new ConfigError(`table ${cfg.name}: watermark column ${name} is not a column of ${cfg.source}; fix "watermark" in the table registry`);
    if (col.type.startsWith('Nullable(')) throw new ConfigError(`table ${cfg.name}: watermark column ${name} is ${col.type}; watermark columns must not be Nullable`);
    // Query parameters take the plain type.
    return col.type.replace(/^LowCardinality\((.*)\)$/, '$1');
  });
  if (!/^DateTime(64)?\b/.test(types[0] ?? '')) {
    throw new ConfigError(`table ${cfg.name}: the first watermark column ${cfg.watermark[0]} is ${types[0]}, it must be DateTime or DateTime64 (an ingestion time)`);
  }
  return { columns: cfg.watermark, types };
}

/** The key columns as a ClickHouse tuple (a lone column stays a scalar). */
export const keyTuple = (k: WatermarkKey) => (k.columns.length === 1 ? quote(k.columns[0]!) : `(${k.columns.map(quote).join(', ')})`);
/** Query parameters {p0:T0}, {p1:T1}, … as a tuple matching keyTuple. */
export const paramTuple = (k: WatermarkKey, p: string) =>
  k.columns.length === 1 ? `{${p}0:${k.types[0]}}` : `(${k.types.map((t, i) => `{${p}${i}:${t}}`).join(', ')})`;
/** The values for paramTuple(k, p). */
export const keyParams = (p: string, values: string[]) => Object.fromEntries(values.map((v, i) => [`${p}${i}`, v]));

/**
 * key > lo, with the first column's bound repeated on its own so ClickHouse can use its primary index and partition
 * pruning (it cannot from a tuple comparison). Reads parameters lo0, lo1, ….
 */
export const aboveLo = (k: WatermarkKey) => `${keyTuple(k)} > ${paramTuple(k, 'lo')} AND ${quote(k.columns[0]!)} >= {lo0:${k.types[0]}}`;

/** WHERE clause for lo < key <= hi (lo null = from the beginning). Values are bound parameters. */
export function rangeWhere(k: WatermarkKey, lo: string[] | null, hi: string[]): { sql: string; params: Record<string, string> } {
  const parts = [`${keyTuple(k)} <= ${paramTuple(k, 'hi')}`, `${quote(k.columns[0]!)} <= {hi0:${k.types[0]}}`];
  if (lo) parts.push(aboveLo(k));
  return { sql: parts.join(' AND '), params: { ...keyParams('hi', hi), ...(lo ? keyParams('lo', lo) : {}) } };
}

function selectBound(k: WatermarkKey): string {
  const vals = k.columns.map((c, i) => `toString(${quote(c)}) AS v${i}`).join(', ');
  return `${vals}, toString(toUnixTimestamp64Micro(toDateTime64(${quote(k.columns[0]!)}, 6))) AS ts`;
}

type BoundRow = Record<string, string>;
const toBound = (k: WatermarkKey, r: BoundRow): Bound => ({ values: k.columns.map((_, i) => r[`v${i}`]!), tsMicros: r.ts! });

/**
 * The newest key that is ready, or null when nothing newer than lo is: its first column must be older than the
 * late-data buffer, and for rollups its window (first column + windowSeconds) must have closed before that.
 */
export async function cycleUpperBound(ch: ClickHouse, table: string, k: WatermarkKey, lo: string[] | null, o: { bufferSeconds: number; windowSeconds: number }): Promise<Bound | null> {
  const first = quote(k.columns[0]!);
  const loSql = lo ? ` AND ${aboveLo(k)}` : '';
  const rows = await ch.json<BoundRow>(
    `SELECT ${selectBound(k)} FROM ${table} WHERE ${first} <= now64(6) - toIntervalSecond({cutoff:UInt32})${loSql}
     ORDER BY ${k.columns.map((c) => `${quote(c)} DESC`).join(', ')} LIMIT 1`,
    { cutoff: o.bufferSeconds + o.windowSeconds, ...(lo ? keyParams('lo', lo) : {}) },
  );
  return rows[0] ? toBound(k, rows[0]) : null;
}

/** The key of the batchRows-th row after lo (capped at hi), so one commit holds at most about batchRows rows. */
export async function batchUpperBound(ch: ClickHouse, table: string, k: WatermarkKey, lo: string[] | null, hi: Bound, batchRows: number): Promise<Bound> {
  const where = rangeWhere(k, lo, hi.values);
  const rows = await ch.json<BoundRow>(
    `SELECT ${selectBound(k)} FROM ${table} WHERE ${where.sql} ORDER BY ${k.columns.map(quote).join(', ')} LIMIT 1 OFFSET {offset:UInt64}`,
    { ...where.params, offset: batchRows - 1 },
  );
  return rows[0] ? toBound(k, rows[0]) : hi;
}

/** ClickHouse expression that orders rows the way a partition transform groups them (UTC), or null when it cannot. */
export function partitionOrderExpr(column: string, transform: string): string | null {
  const c = quote(column);
  switch (transform) {
    case 'identity':
      return c;
    case 'year':
      return `toYear(${c}, 'UTC')`;
    case 'month':
      return `toStartOfMonth(${c}, 'UTC')`;
    case 'day':
      return `toDate(${c}, 'UTC')`;
    case 'hour':
      return `toStartOfHour(${c}, 'UTC')`;
    default:
      return null;
  }
}

/** ORDER BY for a batch: partition groups first, then the table's sort order. */
export function batchOrderBy(cfg: TableConfig): string {
  const parts = cfg.partitionBy.map((p) => partitionOrderExpr(p.column, p.transform)).filter((e): e is string => e !== null);
  parts.push(...cfg.sortBy.map(quote));
  return parts.length ? ` ORDER BY ${parts.join(', ')}` : '';
}

/**
 * Rows newer than lo (all rows when lo is null) and the oldest first-column time among them, in ms (null when there
 * are none): the pending rows and their age, for `status` and the lag metric. Only the rows above lo are read (the
 * primary index finds them when the source is ordered by the watermark key), so a scrape costs what is pending, not
 * the whole hot tier.
 */
export async function pendingRows(ch: ClickHouse, table: string, k: WatermarkKey, lo: string[] | null): Promise<{ pending: number; oldestPendingMs: number | null }> {
  const first = quote(k.columns[0]!);
  const [row] = await ch.json<{ pending: string; oldest: string }>(
    `SELECT toString(count()) AS pending, toString(toUnixTimestamp64Milli(toDateTime64(min(${first}), 3))) AS oldest FROM ${table} WHERE ${lo ? aboveLo(k) : '1'}`,
    lo ? keyParams('lo', lo) : {},
  );
  const pending = Number(row?.pending ?? 0);
  return { pending, oldestPendingMs: pending > 0 ? Number(row!.oldest) : null };
}

/** The larger of two keys, compared by ClickHouse with the columns' own types (exactly as the range queries do). */
export async function maxKey(ch: ClickHouse, k: WatermarkKey, a: string[] | null, b: string[] | null): Promise<string[] | null> {
  if (!a || !b) return a ?? b;
  if (a.length === b.length && a.every((v, i) => v === b[i])) return a;
  const [row] = await ch.json<{ gt: number }>(`SELECT ${paramTuple(k, 'a')} > ${paramTuple(k, 'b')} AS gt`, { ...keyParams('a', a), ...keyParams('b', b) });
  return row?.gt ? a : b;
}
