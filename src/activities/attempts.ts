import { Context } from '@temporalio/activity';
import { listDataFiles, type FileIO, type TableMetadata } from '../iceberg';
import { faultPoint } from './faults';

/** pendingFiles from the last heartbeat of the previous attempt of this activity, if any. */
function previousPending(): string[] {
  try {
    const d = Context.current().info.heartbeatDetails as { pendingFiles?: unknown } | undefined;
    return Array.isArray(d?.pendingFiles) ? d.pendingFiles.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Deletes the data files a dead earlier attempt uploaded but never committed. Call only while holding the table
 * lock: then no earlier attempt can still commit them. Files the table references are kept.
 */
export async function removeDeadAttemptFiles(io: FileIO, meta: TableMetadata, table: string): Promise<number> {
  const pending = previousPending();
  if (!pending.length) return 0;
  const live = new Set((await listDataFiles(io, meta)).map((f) => f.file_path));
  const dead = pending.filter((f) => !live.has(f));
  for (const f of dead) await io.delete(f);
  if (dead.length) {
    try {
      Context.current().log.info('removed files of a dead attempt', { table, files: dead.length });
    } catch {
      // not inside an activity
    }
  }
  return dead.length;
}

/** The FileIO, with the "uploading" fault point hit while the first data file's upload is in flight. */
export function faultyUploads(io: FileIO, table: string): FileIO {
  if (process.env.COLDTIER_FAULT_PAUSE !== 'uploading') return io;
  return {
    read: (uri) => io.read(uri),
    exists: (uri) => io.exists(uri),
    delete: (uri) => io.delete(uri),
    list: (prefix) => io.list(prefix),
    write: async (uri, data) => {
      const upload = io.write(uri, data);
      if (uri.endsWith('.parquet')) await faultPoint('uploading', table);
      await upload;
    },
  };
}
