// A metadata-only commit (expiry today): writes the next metadata file with the
// metadata log pointing at the one it replaces. Like the snapshot actions it
// only writes; the caller's catalog compare-and-swap makes it current.

import { ValidationError } from '../errors';
import type { FileIO } from '../io/file-io';
import { currentSnapshot, type TableMetadata } from '../spec/table-metadata';
import { withMetadataLog, writeNextMetadata, type PreparedCommit } from './snapshot-producer';

/**
 * Writes `next` (derived from `base.metadata`, e.g. ExpirePlan.metadata) as the
 * metadata file after `base.metadataUri`. Refuses with ValidationError if
 * `next` was derived from other metadata (another table, a different current
 * snapshot, snapshots `base` does not have): committing it would undo
 * whatever happened in between. On a lost compare-and-swap, re-plan from the
 * fresh metadata and call again.
 */
export async function prepareMetadataUpdate(io: FileIO, base: { metadata: TableMetadata; metadataUri: string }, next: TableMetadata): Promise<PreparedCommit> {
  const b = base.metadata;
  const table = b.location;
  const cur = currentSnapshot(b)?.['snapshot-id'];
  if (next['table-uuid'] !== b['table-uuid']) throw new ValidationError(table, `the update is for table ${next['table-uuid']}, not ${b['table-uuid']}`);
  if (currentSnapshot(next)?.['snapshot-id'] !== cur || next['last-sequence-number'] !== b['last-sequence-number']) {
    throw new ValidationError(table, `the update was planned on another version of the table (current snapshot ${String(currentSnapshot(next)?.['snapshot-id'])}, now ${String(cur)}); re-plan it`);
  }
  const known = new Set(b.snapshots.map((s) => s['snapshot-id']));
  const unknown = next.snapshots.filter((s) => !known.has(s['snapshot-id']));
  if (unknown.length) throw new ValidationError(table, `the update has ${unknown.length} snapshot(s) the table does not; re-plan it`);
  const metadata = withMetadataLog(b, base.metadataUri, structuredClone(next), Math.max(Date.now(), b['last-updated-ms']));
  const written: string[] = [];
  try {
    const metadataUri = await writeNextMetadata(io, metadata, base.metadataUri, written);
    return { metadata, metadataUri, snapshotId: cur ?? -1n, writtenFiles: written };
  } catch (err) {
    for (const uri of written) await io.delete(uri).catch(() => undefined);
    throw err;
  }
}
