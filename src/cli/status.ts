import { describeSource, qualified } from '../clickhouse/client';
import { pendingRows, watermarkKey } from '../clickhouse/range';
import type { Settings } from '../config/settings';
import { tableIdent } from '../config/lookup';
import { listWatermarks } from '../db/watermarks';
import { loadTable } from '../iceberg';
import type { Services } from '../worker';
import { duration, table, watermark } from './format';

export interface TableStatus {
  table: string;
  layer: string;
  watermark: string[] | null;
  watermarkTs: string | null;
  /** Source's newest ingestion time minus the watermark's, in seconds (0 when caught up); null if unknown. */
  lagSeconds: number | null;
  pendingRows: number | null;
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
    const s: TableStatus = { table: t.name, layer: t.layer, watermark: wm?.values ?? null, watermarkTs: wm?.ts.toISOString() ?? null, lagSeconds: null, pendingRows: null, snapshots: 0, files: 0, rows: 0 };
    try {
      const loaded = await loadTable(svc.pool, svc.io, id);
      if (loaded) {
        const m = loaded.metadata;
        const cur = m.snapshots?.find((x) => x['snapshot-id'] === m['current-snapshot-id']);
        s.snapshots = m.snapshots?.length ?? 0;
        s.files = Number(cur?.summary?.['total-data-files'] ?? 0);
        s.rows = Number(cur?.summary?.['total-records'] ?? 0);
      }
      const src = qualified(svc.ch, t.source).sql;
      const key = watermarkKey(t, await describeSource(svc.ch, t.name, t.source));
      const p = await pendingRows(svc.ch, src, key, wm?.values ?? null);
      s.pendingRows = p.pending;
      s.lagSeconds = p.newestMs === null || p.pending === 0 ? 0 : wm ? Math.max(0, Math.round((p.newestMs - wm.ts.getTime()) / 1000)) : null;
    } catch (err) {
      s.error = (err as Error).message;
    }
    out.push(s);
  }
  return out;
}

export function formatStatus(rows: TableStatus[]): string {
  return table(
    ['table', 'layer', 'watermark', 'lag', 'pending rows', 'snapshots', 'files', 'rows', 'error'],
    rows.map((s) => [s.table, s.layer, watermark(s.watermark), s.lagSeconds === null ? null : s.lagSeconds === 0 ? '0 s' : duration(s.lagSeconds * 1000), s.pendingRows, s.snapshots, s.files, s.rows, s.error]),
  );
}
