// Replace snapshot (operation "replace", Iceberg's RewriteFiles): swaps a set
// of data files for new files holding the same rows. With operation "overwrite" or "delete" (Iceberg's
// OverwriteFiles, copy-on-write) the new files hold different rows: a restated window, duplicates dropped. Applied on top of the
// CURRENT metadata, not the one the rewrite was planned from, so whatever was
// appended meanwhile is carried forward; but only if every file to remove is
// still live, otherwise the rewrite lost a race and must be re-planned.
//
// Data sequence numbers of the new files: the starting snapshot's sequence
// number, as Spark's rewrite_data_files does by default
// (use-starting-sequence-number=true). The rows are as old as the snapshot
// they were read from, so a delete committed after it must still apply to
// them. The file sequence number is the new snapshot's (inherited).

import { randomUUID } from 'node:crypto';
import { IcebergArgumentError, ValidationError } from '../errors';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import { EntryStatus, type DataFile, type ManifestEntry } from '../spec/manifest';
import type { ManifestFile } from '../spec/manifest-list';
import { snapshotSummary } from '../spec/snapshot';
import { currentSchema, currentSnapshot, type TableMetadata } from '../spec/table-metadata';
import { mapLimit } from '../table/parallel';
import { manifestMayHoldPartitions } from '../table/partition-filter';
import { readManifestEntries, readManifestList } from '../table/scan';
import { cleanupFiles, commitSnapshot, countPartitions, metadataDir, newSnapshotId, writeManifest, type PreparedCommit } from './snapshot-producer';

export interface ReplaceChange {
  added: DataFile[];
  removed: DataFile[];
  /** RewritePlan.startingSnapshotId: the snapshot the removed files were read from. */
  startingSnapshotId: bigint | null;
}

export interface PrepareReplaceOptions {
  /** Extra snapshot summary keys (e.g. an idempotency token). Cannot override computed keys. */
  summary?: Record<string, string>;
  /**
   * `replace`: the same rows in new files (compaction); row counts must match and readers of changes skip it.
   * `overwrite`: the removed files' rows are replaced by different ones (a restatement, a copy-on-write fix): a
   * logical change, so the counts may differ and the new files get this snapshot's data sequence number.
   * `delete`: rows removed only (no added file, or added files holding the rows that stay).
   * @default 'replace'
   */
  operation?: 'replace' | 'overwrite' | 'delete';
}

const sum = (files: DataFile[], k: 'record_count' | 'file_size_in_bytes') => files.reduce((a, f) => a + f[k], 0);

/**
 * Writes a replace snapshot on `base` (manifests, list, metadata) and returns
 * it for the catalog compare-and-swap. Throws ValidationError if a removed file
 * is no longer live in `base` or the row counts differ; on a lost
 * compare-and-swap, reload and call again with the same change.
 */
export async function prepareReplace(
  io: FileIO,
  base: { metadata: TableMetadata; metadataUri: string },
  change: ReplaceChange,
  opts: PrepareReplaceOptions = {},
): Promise<PreparedCommit> {
  const m = base.metadata;
  const table = m.location;
  if (change.removed.length === 0) throw new IcebergArgumentError(`replace on ${table} removes no files; skip the commit instead`);
  const parent = currentSnapshot(m);
  if (!parent) throw new ValidationError(table, 'the table has no snapshot, so none of the files to remove is live', change.removed.map((f) => f.file_path));
  const removedPaths = new Set(change.removed.map((f) => f.file_path));
  if (removedPaths.size !== change.removed.length) throw new IcebergArgumentError(`replace on ${table} lists a file to remove twice`);

  const manifests = await readManifestList(io, parent);
  if (manifests.some((x) => x.content === 1)) throw new ValidationError(table, 'the table has delete files, which this writer cannot carry through a rewrite');
  // Only manifests whose partition summaries can hold a removed or added file's partition are opened: the others
  // are carried as they are, and cannot hold a file this replace must find (or must not add twice).
  const mayHold = manifestMayHoldPartitions(m, currentSchema(m), [...change.removed, ...change.added]);
  const touchable = manifests.filter((mf) => mf.added_files_count + mf.existing_files_count > 0 && mayHold(mf));
  const entriesOf = new Map<string, ManifestEntry[]>();
  const live = new Map<string, ManifestEntry>();
  const read = await mapLimit(touchable, (mf) => readManifestEntries(io, m, mf));
  for (const [i, mf] of touchable.entries()) {
    const entries = read[i]!;
    entriesOf.set(mf.manifest_path, entries);
    for (const e of entries) if (e.status !== EntryStatus.DELETED) live.set(e.data_file.file_path, e);
  }
  const gone = [...removedPaths].filter((p) => !live.has(p));
  if (gone.length) throw new ValidationError(table, `${gone.length} file(s) to remove are no longer live in snapshot ${parent['snapshot-id']} (removed by a concurrent commit); re-plan the rewrite`, gone);
  // Row counts from the manifest entries (authoritative), not the caller's copies of the removed files.
  const removed = [...removedPaths].map((p) => live.get(p)!.data_file);
  const addedRows = sum(change.added, 'record_count');
  const removedRows = sum(removed, 'record_count');
  const operation = opts.operation ?? 'replace';
  if (operation === 'delete' && addedRows > removedRows) throw new ValidationError(table, `a delete adds ${addedRows} rows but removes only ${removedRows}; use an overwrite`);
  if (operation === 'replace' && addedRows !== removedRows) throw new ValidationError(table, `the new files hold ${addedRows} rows but the removed files ${removedRows}; a rewrite must not change the rows`);
  const dup = change.added.filter((f) => live.has(f.file_path)).map((f) => f.file_path);
  if (dup.length) throw new ValidationError(table, 'file(s) to add are already in the table', dup);

  const schema = currentSchema(m);
  const snapshotId = newSnapshotId(m);
  const sequenceNumber = m['last-sequence-number'] + 1;
  const starting = change.startingSnapshotId === null ? undefined : m.snapshots.find((s) => s['snapshot-id'] === change.startingSnapshotId);
  // If the starting snapshot was expired meanwhile, fall back to the new sequence number (equivalent without delete files).
  // Rows written by an overwrite or delete are new data: they inherit this snapshot's sequence number.
  const dataSequenceNumber = operation === 'replace' ? (starting?.['sequence-number'] ?? null) : null;
  const written: string[] = [];
  const commitId = randomUUID();
  let n = 0;
  const specOf = (id: number) => {
    const spec = m['partition-specs'].find((s) => s['spec-id'] === id);
    if (!spec) throw new IcebergArgumentError(`data files use partition spec ${id}, which table ${table} does not have`);
    return spec;
  };
  const nextUri = () => {
    const uri = joinUri(metadataDir(m), `${commitId}-m${n++}.avro`);
    written.push(uri);
    return uri;
  };

  try {
    // Removed files become DELETED entries by this snapshot, written beside the new files of their spec rather than
    // in copies of the manifests they came from: a touched manifest whose files were all removed then simply drops
    // out, instead of surviving as a delete-only manifest in this snapshot's list.
    const deleted = new Map<number, ManifestEntry[]>();
    const rewritten: ManifestFile[] = [];
    const carried: ManifestFile[] = [];
    for (const mf of manifests) {
      const entries = entriesOf.get(mf.manifest_path);
      if (!entries?.some((e) => e.status !== EntryStatus.DELETED && removedPaths.has(e.data_file.file_path))) {
        carried.push(mf); // untouched: carried forward as is (this is what keeps concurrent appends)
        continue;
      }
      // The other live files stay, EXISTING with their original snapshot and sequence numbers; entries deleted by
      // earlier snapshots are dropped.
      const kept: ManifestEntry[] = [];
      for (const e of entries) {
        if (e.status === EntryStatus.DELETED) continue;
        if (removedPaths.has(e.data_file.file_path)) deleted.set(mf.partition_spec_id, [...(deleted.get(mf.partition_spec_id) ?? []), { ...e, status: EntryStatus.DELETED, snapshot_id: snapshotId }]);
        else kept.push({ ...e, status: EntryStatus.EXISTING });
      }
      if (kept.length) rewritten.push(await writeManifest(io, kept, specOf(mf.partition_spec_id), schema, snapshotId, nextUri(), sequenceNumber));
    }
    const bySpec = new Map<number, ManifestEntry[]>();
    for (const f of change.added) {
      const e: ManifestEntry = { status: EntryStatus.ADDED, snapshot_id: snapshotId, sequence_number: dataSequenceNumber, file_sequence_number: null, data_file: f };
      bySpec.set(f.spec_id, [...(bySpec.get(f.spec_id) ?? []), e]);
    }
    for (const [specId, entries] of deleted) bySpec.set(specId, [...(bySpec.get(specId) ?? []), ...entries]);
    const out: ManifestFile[] = [];
    for (const [specId, entries] of bySpec) out.push(await writeManifest(io, entries, specOf(specId), schema, snapshotId, nextUri(), sequenceNumber));
    out.push(...rewritten, ...carried);
    return await commitSnapshot(io, base, m, out, {
      'snapshot-id': snapshotId,
      'parent-snapshot-id': parent['snapshot-id'],
      'sequence-number': sequenceNumber,
      'timestamp-ms': Math.max(Date.now(), m['last-updated-ms']),
      summary: snapshotSummary(operation, parent, {
        dataFiles: change.added.length,
        records: addedRows,
        filesSize: sum(change.added, 'file_size_in_bytes'),
        deletedDataFiles: removed.length,
        deletedRecords: removedRows,
        removedFilesSize: sum(removed, 'file_size_in_bytes'),
        changedPartitions: countPartitions([...change.added, ...removed]),
      }, opts.summary),
      'schema-id': schema['schema-id'],
    }, written);
  } catch (err) {
    await cleanupFiles(io, written);
    throw err;
  }
}
