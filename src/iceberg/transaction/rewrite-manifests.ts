// Manifest rewrite, as Spark's rewrite_manifests (Iceberg's RewriteManifests):
// the live entries of the current snapshot are sorted by partition and
// written into manifests of about commit.manifest.target-size-bytes, so a
// reader that prunes by partition opens few manifests, and history (DELETED
// entries, delete-only manifests, hundreds of small manifests) is left to the
// old snapshots until they expire. No data file changes: the new snapshot
// (operation "replace") has the same rows, files and totals as its parent.
//
// Built on whatever metadata the commit lands on, not a plan made earlier, so
// on a lost compare-and-swap the caller just calls it again on the new head:
// an append committed meanwhile is carried (its entries are read like all others).

import { randomUUID } from 'node:crypto';
import { IcebergArgumentError } from '../errors';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import { EntryStatus, partitionType, type ManifestEntry } from '../spec/manifest';
import type { ManifestFile } from '../spec/manifest-list';
import { snapshotSummary } from '../spec/snapshot';
import { currentSchema, currentSnapshot, type TableMetadata } from '../spec/table-metadata';
import { compareValues } from '../spec/values';
import { mapLimit } from '../table/parallel';
import { readManifestEntries, readManifestList } from '../table/scan';
import { manifestMergeSettings } from './manifest-merge';
import { cleanupFiles, commitSnapshot, metadataDir, newSnapshotId, writeManifest, type PreparedCommit } from './snapshot-producer';

export interface RewriteManifestsOptions {
  /** Size of each manifest written. @default table property commit.manifest.target-size-bytes (8 MiB) */
  targetSizeBytes?: number;
  /** Extra snapshot summary keys (e.g. an idempotency token). Cannot override computed keys. */
  summary?: Record<string, string>;
}

export interface RewriteManifestsPlan {
  /** Data manifests of the current snapshot, and how many of them hold only history (no live files). */
  manifestsBefore: number;
  deleteOnlyBefore: number;
  /** Manifests the rewrite writes, and the live entries in them. */
  manifestsAfter: number;
  entries: number;
  /** False when the current manifests are already as few as the rewrite would make and hold no history. */
  worthwhile: boolean;
}

/** Decides from the manifest list alone (no manifest is opened) whether a rewrite would change anything. */
export function planRewriteManifests(meta: TableMetadata, manifests: ManifestFile[], opts: Pick<RewriteManifestsOptions, 'targetSizeBytes'> = {}): RewriteManifestsPlan {
  const target = opts.targetSizeBytes ?? manifestMergeSettings(meta).targetSizeBytes;
  if (!(target > 0)) throw new IcebergArgumentError(`rewrite-manifests of ${meta.location}: targetSizeBytes must be positive, got ${target}`);
  const data = manifests.filter((m) => m.content === 0);
  const live = (m: ManifestFile) => m.added_files_count + m.existing_files_count;
  const entries = data.reduce((a, m) => a + live(m), 0);
  // Bytes per live entry, from the manifests as they are (entries of all statuses take about the same room).
  const all = data.reduce((a, m) => a + live(m) + m.deleted_files_count, 0);
  const bytesPerEntry = all ? data.reduce((a, m) => a + m.manifest_length, 0) / all : 0;
  const manifestsAfter = entries ? Math.max(1, Math.ceil((entries * bytesPerEntry) / target)) : 0;
  const history = data.some((m) => m.deleted_files_count > 0);
  return {
    manifestsBefore: data.length,
    deleteOnlyBefore: data.filter((m) => live(m) === 0).length,
    manifestsAfter,
    entries,
    worthwhile: data.length > manifestsAfter || history,
  };
}

/** Partition-tuple order of one spec, field by field, nulls first (Iceberg's partition comparator). */
function partitionOrder(meta: TableMetadata, specId: number): (a: ManifestEntry, b: ManifestEntry) => number {
  const spec = meta['partition-specs'].find((s) => s['spec-id'] === specId);
  if (!spec) throw new IcebergArgumentError(`manifests use partition spec ${specId}, which table ${meta.location} does not have`);
  const fields = partitionType(spec, currentSchema(meta)).map((p) => p.field.name);
  return (a, b) => {
    for (const f of fields) {
      const x = a.data_file.partition[f] ?? null;
      const y = b.data_file.partition[f] ?? null;
      if (x === null || y === null) {
        if (x !== y) return x === null ? -1 : 1;
        continue;
      }
      const c = compareValues(x, y);
      if (c !== 0) return c;
    }
    return a.data_file.file_path < b.data_file.file_path ? -1 : a.data_file.file_path > b.data_file.file_path ? 1 : 0;
  };
}

/**
 * Writes a snapshot whose manifests hold the current live entries clustered by
 * partition, each entry EXISTING with its snapshot id and sequence numbers.
 * Returns the plan with prepared null when there is nothing to gain (see
 * RewriteManifestsPlan.worthwhile), null when the table has no snapshot.
 * Delete manifests are carried as they are.
 */
export async function prepareRewriteManifests(
  io: FileIO,
  base: { metadata: TableMetadata; metadataUri: string },
  opts: RewriteManifestsOptions = {},
): Promise<{ prepared: PreparedCommit | null; plan: RewriteManifestsPlan } | null> {
  const m = base.metadata;
  const parent = currentSnapshot(m);
  if (!parent) return null;
  const manifests = await readManifestList(io, parent);
  const plan = planRewriteManifests(m, manifests, opts);
  if (!plan.worthwhile) return { prepared: null, plan };
  const data = manifests.filter((x) => x.content === 0 && x.added_files_count + x.existing_files_count > 0);
  const perManifest = await mapLimit(data, (mf) => readManifestEntries(io, m, mf));
  const bySpec = new Map<number, ManifestEntry[]>();
  for (const e of perManifest.flat()) {
    if (e.status === EntryStatus.DELETED) continue;
    bySpec.set(e.data_file.spec_id, [...(bySpec.get(e.data_file.spec_id) ?? []), { ...e, status: EntryStatus.EXISTING }]);
  }
  const schema = currentSchema(m);
  const snapshotId = newSnapshotId(m);
  const sequenceNumber = m['last-sequence-number'] + 1;
  const commitId = randomUUID();
  const written: string[] = [];
  const perManifestEntries = Math.max(1, Math.ceil(plan.entries / Math.max(1, plan.manifestsAfter)));
  try {
    const out: ManifestFile[] = [];
    for (const specId of [...bySpec.keys()].sort((a, b) => b - a)) {
      const spec = m['partition-specs'].find((s) => s['spec-id'] === specId)!;
      const entries = bySpec.get(specId)!.sort(partitionOrder(m, specId));
      for (let i = 0; i < entries.length; i += perManifestEntries) {
        const uri = joinUri(metadataDir(m), `${commitId}-m${out.length}.avro`);
        written.push(uri);
        out.push(await writeManifest(io, entries.slice(i, i + perManifestEntries), spec, schema, snapshotId, uri, sequenceNumber));
      }
    }
    out.push(...manifests.filter((x) => x.content !== 0));
    const prepared = await commitSnapshot(io, base, m, out, {
      'snapshot-id': snapshotId,
      'parent-snapshot-id': parent['snapshot-id'],
      'sequence-number': sequenceNumber,
      'timestamp-ms': Math.max(Date.now(), m['last-updated-ms']),
      summary: snapshotSummary('replace', parent, { dataFiles: 0, records: 0, filesSize: 0, deletedDataFiles: 0, deletedRecords: 0, removedFilesSize: 0, changedPartitions: 0 }, {
        ...opts.summary,
        // The keys Iceberg Java's RewriteManifests writes.
        'manifests-created': String(out.filter((x) => x.added_snapshot_id === snapshotId).length),
        'manifests-kept': '0',
        'manifests-replaced': String(plan.manifestsBefore),
        'entries-processed': String(plan.entries),
      }),
      'schema-id': schema['schema-id'],
    }, written);
    return { prepared, plan: { ...plan, manifestsAfter: out.filter((x) => x.added_snapshot_id === snapshotId).length } };
  } catch (err) {
    await cleanupFiles(io, written);
    throw err;
  }
}
