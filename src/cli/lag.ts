// The one definition of lag, used by `coldtier status`, the coldtier_watermark_lag_seconds metric and so the alert
// rules: the age of the oldest source row that is not yet in Iceberg, 0 when there is none. For rollups
// (closedWindowSeconds > 0) a row's age counts from when its window closed: an open window is held back on purpose,
// so it is no delay. The late-data buffer is not subtracted; it is seconds, and it is part of the real delay.
import { describeSource, qualified, type ClickHouse } from '../clickhouse/client';
import { maxKey, pendingRows, watermarkKey } from '../clickhouse/range';
import { sourceTtl, ttlSeconds, ttlState } from '../clickhouse/ttl';
import type pg from 'pg';
import { tableIdent } from '../config/lookup';
import type { Settings } from '../config/settings';
import type { TableConfig } from '../config/tables';
import { listWatermarks, type Watermark } from '../db/watermarks';

export interface TableLag {
  /** Rows above everything committed. */
  pendingRows: number;
  /** Seconds; 0 when nothing is pending (or every pending row's window is still open). */
  lagSeconds: number;
}

/** Lag in seconds from the oldest pending row's first watermark column (ms), the window width and the clock. */
export function lagSeconds(oldestPendingMs: number | null, closedWindowSeconds: number, nowMs = Date.now()): number {
  if (oldestPendingMs === null) return 0;
  return Math.max(0, Math.floor((nowMs - oldestPendingMs) / 1000) - closedWindowSeconds);
}

/**
 * Lag of one table. "Not yet in Iceberg" is everything above the larger of the watermark and the highest key a
 * commit covered (`committed_to`), which is where the next offload starts reading.
 */
export async function tableLag(ch: ClickHouse, cfg: TableConfig, wm: Watermark | null, nowMs?: number): Promise<TableLag> {
  const { key, lo } = await pendingFrom(ch, cfg, wm);
  const p = await pendingRows(ch, qualified(ch, cfg.source).sql, key, lo);
  return { pendingRows: p.pending, lagSeconds: lagSeconds(p.oldestPendingMs, cfg.closedWindowSeconds, nowMs ?? Date.now()) };
}

/** The watermark key and where the pending rows start: above the larger of the watermark and `committed_to`. */
async function pendingFrom(ch: ClickHouse, cfg: TableConfig, wm: Watermark | null) {
  const key = watermarkKey(cfg, await describeSource(ch, cfg.name, cfg.source));
  return { key, lo: wm ? await maxKey(ch, key, wm.values, wm.committedTo) : null };
}

export interface TableTtl {
  /** The source's TTL rule as ClickHouse prints it, e.g. `toDateTime(ingested_at) + toIntervalDay(30)`. */
  rule: string;
  /** The rule's length (a month counted as 30 days). */
  ttlSeconds: number;
  /**
   * Seconds until the TTL reaches the oldest row not yet in Iceberg (the pending rows of tableLag); negative when it
   * already has (ClickHouse deletes it at its next merge). With nothing pending, the whole TTL.
   */
  headroomSeconds: number;
}

/** The TTL guard of one table: null when its source has no TTL. */
export async function tableTtl(ch: ClickHouse, cfg: TableConfig, wm: Watermark | null): Promise<TableTtl | null> {
  const q = qualified(ch, cfg.source);
  const ttl = await sourceTtl(ch, q.database, q.table);
  if (!ttl) return null;
  const { key, lo } = await pendingFrom(ch, cfg, wm);
  const state = await ttlState(ch, q.sql, key, lo, ttl);
  return { rule: ttl.text, ttlSeconds: ttlSeconds(ttl), headroomSeconds: state.headroomSeconds ?? ttlSeconds(ttl) };
}

/**
 * The TTL headroom of every configured table whose source has a TTL, for the metric (read at scrape time), each also
 * given to `onValue` as it is read.
 */
export async function allTtls(settings: Settings, pool: pg.Pool, ch: ClickHouse, onError: (table: string, err: unknown) => void, onValue?: (table: string, ttl: TableTtl) => void): Promise<Map<string, TableTtl>> {
  const out = new Map<string, TableTtl>();
  const wms = await listWatermarks(pool, settings.catalog.name);
  for (const t of settings.tables) {
    const id = tableIdent(settings, t.name);
    try {
      const ttl = await tableTtl(ch, t, wms.get(`${id.namespace}.${t.name}`) ?? null);
      if (ttl) {
        out.set(t.name, ttl);
        onValue?.(t.name, ttl);
      }
    } catch (err) {
      onError(t.name, err);
    }
  }
  return out;
}

/**
 * Lag of every configured table, for the metric (read at scrape time, so a stalled pipeline shows a growing lag even
 * though no offload reports in), each also given to `onValue` as it is read. A table whose lag cannot be read is left
 * out and the error passed to `onError`.
 */
export async function allLags(settings: Settings, pool: pg.Pool, ch: ClickHouse, onError: (table: string, err: unknown) => void, onValue?: (table: string, lagSeconds: number) => void): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const wms = await listWatermarks(pool, settings.catalog.name);
  for (const t of settings.tables) {
    const id = tableIdent(settings, t.name);
    try {
      const lag = (await tableLag(ch, t, wms.get(`${id.namespace}.${t.name}`) ?? null)).lagSeconds;
      out.set(t.name, lag);
      onValue?.(t.name, lag);
    } catch (err) {
      onError(t.name, err);
    }
  }
  return out;
}
