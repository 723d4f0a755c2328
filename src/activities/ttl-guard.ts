import { qualified, type ClickHouse } from '../clickhouse/client';
import { maxKey, type WatermarkKey } from '../clickhouse/range';
import { oldestKey, sourceTtl, ttlUnitSql } from '../clickhouse/ttl';
import type { TableConfig } from '../config/tables';

/**
 * The TTL guard's after-the-fact half: rows ClickHouse deleted before they were offloaded. They are lost for good
 * when the TTL has passed the watermark (the rows right after it were old enough to be deleted) and nothing at or
 * below the watermark is left in the source (its oldest row is newer): whatever lay between the two keys is gone.
 * Returns the verdict in plain words, naming the table and the key range, or null when nothing was lost.
 * `lo` is where the next offload reads from (the larger of the watermark and what commits covered).
 */
export interface LostRows {
  /** The sentence for results, notes and logs. */
  message: string;
  /** The watermark: rows above it were lost … */
  from: string[];
  /** … up to (not including) the oldest row left in the source. */
  to: string[];
}

export async function lostRows(ch: ClickHouse, cfg: TableConfig, key: WatermarkKey, lo: string[] | null): Promise<LostRows | null> {
  if (!lo) return null;
  const q = qualified(ch, cfg.source);
  const ttl = await sourceTtl(ch, q.database, q.table);
  if (!ttl) return null;
  // The TTL must have passed the watermark itself: the rows right after it were due for deletion. The watermark's
  // value of the TTL column when the rule is on a key column, else its first (ingestion time) column. Checked first:
  // it needs no scan of the source, and in a healthy pipeline it is false.
  const at = Math.max(0, key.columns.indexOf(ttl.column));
  const [row] = await ch.json<{ due: number }>(
    `SELECT date_add(${ttlUnitSql(ttl.unit)}, {n:UInt32}, toDateTime64({w:${key.types[at]}}, 6)) < now64(6) AS due`,
    { n: ttl.amount, w: lo[at] },
  );
  if (!row?.due) return null;
  // ... and nothing at or below the watermark may be left in the source (its oldest row is above it).
  const oldest = await oldestKey(ch, q.sql, key);
  if (!oldest) return null;
  if ((await maxKey(ch, key, oldest, lo)) !== oldest || oldest.every((v, i) => v === lo[i])) return null;
  const cols = key.columns.join(', ');
  const message = `rows lost in ${cfg.name}: ClickHouse's TTL on ${cfg.source} (${ttl.text}) deleted rows that were never offloaded. ` +
    `The watermark is (${cols}) = (${lo.join(', ')}) and the oldest row left in ${cfg.source} is (${oldest.join(', ')}); ` +
    `any rows with (${cols}) between those keys are gone from ClickHouse for good and cannot be offloaded or repaired from it ` +
    '(restore them from the upstream feed if they matter; `coldtier status` shows the TTL headroom, watch it)';
  return { message, from: lo, to: oldest };
}

