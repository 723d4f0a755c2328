// Glue between the activities and the Iceberg library's commit loop (casCommit): what the offload adds to the commit
// transaction — the fence and the watermark — and which files an attempt may delete when its commit does not land.
import type pg from 'pg';
import { casCommit, CommitStateUnknownError, prepareAppend, type Committed, type CommitTransaction, type DataFile, type FileIO, type LoadedTable, type Schema } from '../iceberg';
import { advanceWatermark, type TableIdent } from '../db/watermarks';
import type { LockGuard } from '../db/table-lock';
import { WatermarkMovedError } from './errors';

export interface AppendRequest {
  id: TableIdent;
  files: DataFile[];
  schema?: Schema;
  summary: Record<string, string>;
  /** The attempt's table lock: its fence is checked inside the commit transaction. */
  guard?: LockGuard;
  /**
   * Whether this attempt wrote `files` itself and may delete them once it knows they were not committed. False for a
   * fan-out commit: the files belong to the range writes, and another attempt of the commit may have committed them.
   * @default true
   */
  ownsFiles?: boolean;
  /** Advance the watermark with the commit; omitted by backfill/repair, which fill gaps below it. */
  watermark?: { columns: string[]; from: string[] | null; to: string[]; ts: Date; offloadId: string; rows: number };
}

/**
 * The beforeSwap of a locked table action: the attempt must still own the table (its fencing epoch, checked and
 * row-locked until the transaction ends, so no successor can take over between this check and the swap).
 */
export function fenced(guard: LockGuard): (tx: CommitTransaction) => Promise<void> {
  return (tx) => guard.checkFence(tx.db);
}

/** Deletes data files an attempt wrote (best effort: a file left behind is the orphan sweep's). */
export const deleteFiles = (io: FileIO, files: readonly DataFile[]): Promise<unknown> => Promise.all(files.map((f) => io.delete(f.file_path).catch(() => undefined)));

/**
 * Runs `work`, which writes the data files in `written` and commits them; when it fails, deletes those files, except
 * after a COMMIT whose outcome is unknown (then they may be the table's now; the orphan sweep has the rest).
 */
export async function deleteOnFailure<T>(io: FileIO, written: readonly DataFile[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof CommitStateUnknownError)) await deleteFiles(io, written);
    throw err;
  }
}

/**
 * Commits an append and advances the watermark in ONE Postgres transaction: the catalog swap and the watermark
 * update succeed or fail together, so the cold tier never holds rows the watermark does not cover and never misses
 * rows it does. On a catalog conflict (e.g. compaction committed first) the same data files are re-applied on top.
 * An attempt that was fenced out, or lost the watermark race, commits nothing; it deletes its files only when it owns
 * them and knows they did not land (never after a COMMIT whose outcome is unknown).
 */
export async function commitAppend(pool: pg.Pool, io: FileIO, table: LoadedTable, req: AppendRequest): Promise<Committed> {
  const wm = req.watermark;
  const owned = (req.ownsFiles ?? true) ? req.files : [];
  const done = await deleteOnFailure(io, owned, () => {
    req.guard?.assertHeld();
    return casCommit(pool, io, req.id, table, {
      prepare: (base) => prepareAppend(io, base, req.files, { summary: req.summary, ...(req.schema ? { schema: req.schema } : {}) }),
      beforeSwap: async (tx) => {
        // The fence first: an attempt that no longer owns the table must not even compare the watermark.
        if (req.guard) await fenced(req.guard)(tx);
        if (!wm) return true;
        const next = { columns: wm.columns, values: wm.to, ts: wm.ts, offloadId: wm.offloadId, snapshotId: tx.prepared.snapshotId.toString(), rows: wm.rows };
        return advanceWatermark(tx.db, req.id, wm.from, next);
      },
    });
  });
  if (!done) {
    await deleteFiles(io, owned);
    throw new WatermarkMovedError(`${req.id.namespace}.${req.id.table}`);
  }
  return done;
}
