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
  const dead: string[] = [];
  for (const f of pending.filter((x) => !live.has(x))) {
    // A file named before its upload may never have landed (killed mid-upload: then there is nothing to delete here,
    // and an unfinished multipart upload is aborted by the orphan sweep).
    if (!(await io.exists(f))) continue;
    await io.delete(f);
    dead.push(f);
  }
  if (dead.length) {
    try {
      Context.current().log.info('removed files of a dead attempt', { table, files: dead.length });
    } catch {
      // not inside an activity
    }
  }
  return dead.length;
}

/**
 * The FileIO, calling `starting(uri)` before each data file upload begins, so the attempt can put the file in its
 * heartbeat first: if the worker dies mid-upload, the next attempt knows what to delete (removeDeadAttemptFiles).
 */
export function reportingUploads(io: FileIO, starting: (uri: string) => void): FileIO {
  return {
    ...io,
    write: async (uri, data) => {
      if (uri.endsWith('.parquet')) starting(uri);
      await io.write(uri, data);
    },
  };
}

/** The FileIO, with the "uploading" fault point hit while the first data file's upload is in flight. */
export function faultyUploads(io: FileIO, table: string): FileIO {
  if (process.env.COLDTIER_FAULT_PAUSE !== 'uploading') return io;
  return {
    read: (uri) => io.read(uri),
    exists: (uri) => io.exists(uri),
    delete: (uri) => io.delete(uri),
    list: (prefix) => io.list(prefix),
    listNames: (dir, prefix) => io.listNames(dir, prefix),
    abortStaleUploads: (prefix, olderThan, dryRun) => io.abortStaleUploads(prefix, olderThan, dryRun),
    write: async (uri, data) => {
      const upload = io.write(uri, data);
      if (uri.endsWith('.parquet')) await faultPoint('uploading', table);
      await upload;
    },
  };
}
