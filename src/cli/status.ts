import type { Settings } from '../config/settings';
import { tableIdent } from '../config/lookup';
import { listWatermarks } from '../db/watermarks';
import { loadTable } from '../iceberg';
import type { Services } from '../worker';
import { lag, shorten, table, watermark } from './format';
import { tableLag, tableTtl } from './lag';

export interface TableStatus {
  table: string;
  layer: string;
  watermark: string[] | null;
  watermarkTs: string | null;
  /**
   * Age of the oldest source row not yet in Iceberg, in seconds (0 when none; rollups: from when its window closed);
   * the same number as the coldtier_watermark_lag_seconds metric (src/cli/lag.ts). Null when it could not be read.
   */
  lagSeconds: number | null;
  pendingRows: number | null;
  /**
   * Seconds until the source's ClickHouse TTL deletes the oldest row not yet in Iceberg (negative: overdue), the whole
   * TTL when nothing is pending; null when the source has no TTL. The coldtier_ttl_headroom_seconds metric.
   */
  ttlHeadroomSeconds: number | null;
  /** The source's TTL rule, e.g. `toDateTime(ingested_at) + toIntervalDay(30)`; null without one. */
  ttl: string | null;
  snapshots: number;
  files: number;
  rows: number;
  error?: string;
}

export async function collectStatus(settings: Settings, svc: Services): Promise<TableStatus[]> {
  const wms = await listWatermarks(svc.pool, settings.catalog.name);
  const out: TableStatus[] = [];
  for (const t of settings.tables) {
    const id = tableIdent(settings, t.name);
    const wm = wms.get(`${id.namespace}.${t.name}`) ?? null;
    const s: TableStatus = { table: t.name, layer: t.layer, watermark: wm?.values ?? null, watermarkTs: wm?.ts.toISOString() ?? null, lagSeconds: null, pendingRows: null, ttlHeadroomSeconds: null, ttl: null, snapshots: 0, files: 0, rows: 0 };
    try {
      const loaded = await loadTable(svc.pool, svc.io, id);
      if (loaded) {
        const m = loaded.metadata;
        const cur = m.snapshots?.find((x) => x['snapshot-id'] === m['current-snapshot-id']);
        s.snapshots = m.snapshots?.length ?? 0;
        s.files = Number(cur?.summary?.['total-data-files'] ?? 0);
        s.rows = Number(cur?.summary?.['total-records'] ?? 0);
      }
      const l = await tableLag(svc.ch, t, wm);
      s.pendingRows = l.pendingRows;
      s.lagSeconds = l.lagSeconds;
      const ttl = await tableTtl(svc.ch, t, wm);
      s.ttlHeadroomSeconds = ttl?.headroomSeconds ?? null;
      s.ttl = ttl?.rule ?? null;
    } catch (err) {
      s.error = (err as Error).message;
    }
    out.push(s);
  }
  return out;
}

export function formatStatus(rows: TableStatus[]): string {
  return table(
    ['table', 'layer', 'watermark', 'lag', 'pending rows', 'ttl headroom', 'snapshots', 'files', 'rows', 'error'],
    rows.map((s) => [s.table, s.layer, watermark(s.watermark), lag(s.lagSeconds), s.pendingRows, ttlHeadroom(s.ttlHeadroomSeconds), s.snapshots, s.files, s.rows, s.error && shorten(s.error)]),
  );
}

/** The TTL headroom column: '-' without a TTL; OVERDUE when the TTL has reached unoffloaded rows. */
function ttlHeadroom(seconds: number | null): string {
  if (seconds === null) return '-';
  return seconds <= 0 ? `OVERDUE ${lag(-seconds) ?? ''}` : (lag(seconds) ?? '-');
}
