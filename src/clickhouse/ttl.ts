import { quote, type ClickHouse } from './client';
import { aboveLo, keyParams, type WatermarkKey } from './range';
import { splitTopLevel } from './schema/clickhouse-type';

/**
 * A source's table TTL (the rule ClickHouse deletes rows by), read from `system.tables.engine_full`, e.g.
 * `TTL toDateTime(ingested_at) + toIntervalDay(30)`: rows are deleted once `column + interval` has passed.
 */
export interface SourceTtl {
  /** The column the rule is on. */
  column: string;
  unit: TtlUnit;
  amount: number;
  /** The rule as ClickHouse prints it, for messages. */
  text: string;
}

const UNITS = { Second: 'SECOND', Minute: 'MINUTE', Hour: 'HOUR', Day: 'DAY', Week: 'WEEK', Month: 'MONTH', Quarter: 'QUARTER', Year: 'YEAR' } as const;
export type TtlUnit = keyof typeof UNITS;
/** The unit as a ClickHouse interval keyword (date_add's first argument), from the fixed list above. */
export const ttlUnitSql = (u: TtlUnit): string => UNITS[u];
const SECONDS: Record<TtlUnit, number> = { Second: 1, Minute: 60, Hour: 3600, Day: 86_400, Week: 604_800, Month: 2_592_000, Quarter: 7_776_000, Year: 31_536_000 };

/** The rule's length in seconds (a month is 30 days, a year 365: for the audit's horizon, where hours matter). */
export const ttlSeconds = (t: SourceTtl): number => t.amount * SECONDS[t.unit];

const RULE = /^((?:toDateTime\(\s*)?`?([A-Za-z_][A-Za-z0-9_]*)`?\s*\)?\s*\+\s*toInterval(Second|Minute|Hour|Day|Week|Month|Quarter|Year)\((\d+)\))(?:\s+DELETE)?$/;
/** Rules that do not delete every row they reach: moves, recompression, rollups, conditional deletes. */
const NOT_A_DELETE = /\b(TO DISK|TO VOLUME|RECOMPRESS|GROUP BY|WHERE)\b/;

/**
 * Parses the TTL clause of an `engine_full`: its first rule that deletes rows; null without one. A delete rule coldtier
 * cannot read (another expression than `column + interval`) is an error that names the table, rather than a guard
 * that silently guards nothing.
 */
export function parseTtl(source: string, engineFull: string): SourceTtl | null {
  const clause = /\sTTL\s+(.*?)(?:\s+SETTINGS\s|$)/s.exec(engineFull)?.[1];
  if (!clause) return null;
  for (const rule of splitTopLevel(clause)) {
    if (NOT_A_DELETE.test(rule)) continue;
    const m = RULE.exec(rule);
    if (!m) throw new Error(`source ${source}: cannot read its TTL rule "${rule}"; coldtier's TTL guard understands "<column> + INTERVAL <n> <unit>" (or toDateTime(<column>) + …)`);
    return { text: m[1]!, column: m[2]!, unit: m[3] as TtlUnit, amount: Number(m[4]) };
  }
  return null;
}

/** The TTL of `database.table` (a view or a table without TTL: null). */
export async function sourceTtl(ch: ClickHouse, database: string, table: string): Promise<SourceTtl | null> {
  const [row] = await ch.json<{ e: string }>('SELECT engine_full AS e FROM system.tables WHERE database = {d:String} AND name = {t:String}', { d: database, t: table });
  return row ? parseTtl(`${database}.${table}`, row.e) : null;
}

export interface TtlState {
  /**
   * Seconds until the TTL deletes the oldest row not yet offloaded (negative: overdue, ClickHouse may delete it at
   * its next merge); null when nothing is pending.
   */
  headroomSeconds: number | null;
}

/**
 * Where the TTL stands against the rows above `lo` (the same "pending" as src/cli/lag.ts: above everything committed).
 * Reads only the pending rows (the primary index finds them when the source is ordered by the watermark key), so the
 * metric scrape and `coldtier status` do not scan the hot tier.
 */
export async function ttlState(ch: ClickHouse, src: string, k: WatermarkKey, lo: string[] | null, ttl: SourceTtl): Promise<TtlState> {
  const expires = `toUnixTimestamp64Milli(toDateTime64(date_add(${UNITS[ttl.unit]}, {ttl_n:UInt32}, toDateTime64(min(${quote(ttl.column)}), 6)), 3))`;
  const [row] = await ch.json<{ pending: string; headroom_ms: string }>(
    `SELECT toString(count()) AS pending, toString(${expires} - toUnixTimestamp64Milli(now64(3))) AS headroom_ms FROM ${src} WHERE ${lo ? aboveLo(k) : '1'}`,
    { ttl_n: ttl.amount, ...(lo ? keyParams('lo', lo) : {}) },
  );
  return { headroomSeconds: Number(row?.pending ?? 0) > 0 ? Math.floor(Number(row!.headroom_ms) / 1000) : null };
}

/**
 * The key of the oldest row still in the source (null: it is empty). In key order with LIMIT 1, so a source ordered
 * by the watermark key answers from its first granule instead of a scan.
 */
export async function oldestKey(ch: ClickHouse, src: string, k: WatermarkKey): Promise<string[] | null> {
  const [row] = await ch.json<Record<string, string>>(`SELECT ${k.columns.map((c, i) => `toString(${quote(c)}) AS k${i}`).join(', ')} FROM ${src} ORDER BY ${k.columns.map(quote).join(', ')} LIMIT 1`);
  return row ? k.columns.map((_, i) => row[`k${i}`]!) : null;
}
