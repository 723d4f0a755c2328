import { listDataFiles, type FileIO, type TableMetadata } from '../../iceberg';
import { log, previousHeartbeat } from '../context';
import type { TestHooks } from '../deps';

/** pendingFiles from the last heartbeat of the previous attempt of this activity, if any. */
function previousPending(): string[] {
  const d = previousHeartbeat() as { pendingFiles?: unknown } | undefined;
  return Array.isArray(d?.pendingFiles) ? d.pendingFiles.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Deletes the data files a dead earlier attempt uploaded but never committed. Call only while holding the table
 * lock, with `meta` loaded after taking it: taking the lock moved the table's fencing epoch, so no earlier attempt can
 * commit any more (its commit transaction's fence check fails), and whatever it committed before is in `meta`. Files
 * the table references are kept.
 */
export async function removeDeadAttemptFiles(io: FileIO, meta: TableMetadata, table: string): Promise<number> {
  const pending = previousPending();
  if (!pending.length) return 0;
  const live = new Set((await listDataFiles(io, meta)).map((f) => f.file_path));
  const dead: string[] = [];
  for (const f of pending.filter((x) => !live.has(x))) {
    // A file named before its upload may never have landed (killed mid-upload: then there is nothing to delete here,
    // and an unfinished multipart upload is aborted by the orphan sweep).
    if (!(await io.exists(f))) continue;
    await io.delete(f);
    dead.push(f);
  }
  if (dead.length) log('removed files of a dead attempt', { table, files: dead.length });
  return dead.length;
}

/**
 * The FileIO, calling `starting(uri)` before each data file upload begins, so the attempt can put the file in its
 * heartbeat first: if the worker dies mid-upload, the next attempt knows what to delete (removeDeadAttemptFiles).
 * With a fault hook, the "uploading" fault point is hit while each data file's upload is in flight.
 */
export function reportingUploads(io: FileIO, table: string, starting: (uri: string) => void, hooks?: TestHooks): FileIO {
  const fault = hooks?.faultPoint;
  return {
    ...io,
    write: async (uri, data, opts) => {
      if (!uri.endsWith('.parquet')) return io.write(uri, data, opts);
      starting(uri);
      const upload = io.write(uri, data, opts);
      if (fault) await fault('uploading', table);
      await upload;
    },
  };
}
