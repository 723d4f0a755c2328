import { quote, type ClickHouse, type ColumnInfo } from '../../clickhouse/client';
import { DATA_FILES_SETTINGS, dataFilesFunction } from '../../clickhouse/data-files';
import type { IcebergAccess } from '../../clickhouse/federation';

/**
 * The audit's per-hour figures, computed by ClickHouse alike over the source table and over an exact list of Iceberg
 * data files: rows, distinct row keys and an order-independent fingerprint of the row values (the sum, wrapping in
 * UInt64, of cityHash64 over every column's value). The Iceberg side reads the files with the source's own column
 * types (`structure`), so both sides hash the same typed values after the Parquet round trip.
 */
export interface HourFigures {
  rows: number;
  /** Distinct row keys; equal to rows when not counted (`withKeys` false). */
  keys: number;
  /** UInt64 as decimal text. */
  fingerprint: string;
}

export interface FingerprintSpec {
  /** The event-time column the hours are taken from. */
  time: string;
  /** Columns that identify a row (the watermark columns plus the sort columns). */
  rowKey: string[];
  /** Columns whose values are fingerprinted, with their source types: in the source and in the Iceberg table. */
  columns: ColumnInfo[];
  /** Columns the Iceberg side reads (the fingerprinted ones, the time column and the row key), with source types. */
  read: ColumnInfo[];
  /** Window [fromMs, toMs); rollups: only rows with time ≤ closedUpToMs. */
  fromMs: number;
  toMs: number;
  closedUpToMs?: number;
}

/** A column's value for the hash; a NULL hashes apart from its type's default. */
export const hashed = (c: ColumnInfo) => (/Nullable\(/.test(c.type) ? `isNull(${quote(c.name)}), assumeNotNull(${quote(c.name)})` : quote(c.name));

/**
 * Distinct keys are counted only when asked (`withKeys`): the audit first compares rows and fingerprints, and counts
 * keys only when an hour differs (a hash set per hour costs about as much as the fingerprint itself).
 */
function hourlyQuery(from: string, s: FingerprintSpec, withKeys: boolean): { sql: string; params: Record<string, number> } {
  const t = quote(s.time);
  const closed = s.closedUpToMs === undefined ? '' : ` AND ${t} <= fromUnixTimestamp64Milli({c:Int64})`;
  // Keys by their 64-bit hash: a collision among an hour's keys is vanishingly unlikely (~1e-9 for a million keys).
  const keys = withKeys ? `toString(uniqExact(cityHash64(${s.rowKey.map(quote).join(', ')})))` : 'toString(count())';
  return {
    sql: `SELECT toString(toUnixTimestamp(toStartOfHour(${t}, 'UTC')) * 1000) AS h, toString(count()) AS n, ${keys} AS k,
       toString(sum(cityHash64(${s.columns.map(hashed).join(', ')}))) AS fp
     FROM ${from} WHERE ${t} >= fromUnixTimestamp64Milli({f:Int64}) AND ${t} < fromUnixTimestamp64Milli({t:Int64})${closed} GROUP BY h
     SETTINGS ${DATA_FILES_SETTINGS}`,
    params: { f: s.fromMs, t: s.toMs, ...(s.closedUpToMs === undefined ? {} : { c: s.closedUpToMs }) },
  };
}

async function hourly(ch: ClickHouse, from: string, s: FingerprintSpec, withKeys: boolean): Promise<Map<number, HourFigures>> {
  const q = hourlyQuery(from, s, withKeys);
  const out = new Map<number, HourFigures>();
  for (const r of await ch.json<{ h: string; n: string; k: string; fp: string }>(q.sql, q.params)) out.set(Number(r.h), { rows: Number(r.n), keys: Number(r.k), fingerprint: r.fp });
  return out;
}

/** The figures of the source table (already qualified and quoted). */
export const sourceHours = (ch: ClickHouse, src: string, s: FingerprintSpec, withKeys = false) => hourly(ch, src, s, withKeys);

/** The figures of exactly these Iceberg data files (the pruned live files of the snapshot), read by ClickHouse. */
export async function icebergHours(ch: ClickHouse, locations: string[], access: IcebergAccess, s: FingerprintSpec, withKeys = false): Promise<Map<number, HourFigures>> {
  if (!locations.length) return new Map();
  for (const name of [s.time, ...s.rowKey]) if (!s.read.some((c) => c.name === name)) throw new Error(`audit: column ${name} is not in both the source and the Iceberg table`);
  const structure = s.read.map((c) => `${quote(c.name)} ${c.type}`).join(', ');
  return hourly(ch, dataFilesFunction(locations, access, structure), s, withKeys);
}
