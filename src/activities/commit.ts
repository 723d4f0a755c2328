import type pg from 'pg';
import { casCommit, prepareAppend, type DataFile, type FileIO, type LoadedTable, type PreparedCommit, type Schema } from '../iceberg';
import { advanceWatermark, type TableIdent } from '../db/watermarks';
import type { LockGuard } from '../db/table-lock';
import { WatermarkMovedError } from './errors';

export interface AppendRequest {
  id: TableIdent;
  files: DataFile[];
  schema?: Schema;
  summary: Record<string, string>;
  /** Checked inside the commit transaction: an attempt that lost its table lock must not commit. */
  guard?: LockGuard;
  /** Advance the watermark with the commit; omitted by backfill/repair, which fill gaps below it. */
  watermark?: { columns: string[]; from: string[] | null; to: string[]; ts: Date; offloadId: string; rows: number };
}

/**
 * Commits an append and advances the watermark in ONE Postgres transaction: the catalog swap and the watermark
 * update succeed or fail together, so the cold tier never holds rows the watermark does not cover and never misses
 * rows it does. On a catalog conflict (e.g. compaction committed first) the same data files are re-applied on top.
 */
export async function commitAppend(pool: pg.Pool, io: FileIO, table: LoadedTable, req: AppendRequest): Promise<{ table: LoadedTable; prepared: PreparedCommit }> {
  const wm = req.watermark;
  const done = await casCommit(pool, io, req.id, table, {
    prepare: (base) => prepareAppend(io, base, req.files, { summary: req.summary, ...(req.schema ? { schema: req.schema } : {}) }),
    inTransaction: async (client, prepared) => {
      req.guard?.assertHeld();
      if (!wm) return true;
      return advanceWatermark(client, req.id, wm.from, { columns: wm.columns, values: wm.to, ts: wm.ts, offloadId: wm.offloadId, snapshotId: prepared.snapshotId.toString(), rows: wm.rows });
    },
  });
  if (!done) {
    await Promise.all(req.files.map((f) => io.delete(f.file_path).catch(() => undefined)));
    throw new WatermarkMovedError(`${req.id.namespace}.${req.id.table}`);
  }
  return done;
}
