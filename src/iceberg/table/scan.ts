// Reading back which data files a snapshot contains (compaction, expiry and
// status all start from this).

import { IcebergArgumentError } from '../errors';
import type { FileIO } from '../io/file-io';
import { decodeManifest, EntryStatus, type DataFile, type ManifestEntry } from '../spec/manifest';
import { decodeManifestList, type ManifestFile } from '../spec/manifest-list';
import type { Snapshot } from '../spec/snapshot';
import { mapLimit } from './parallel';
import { currentSchema, currentSnapshot, type TableMetadata } from '../spec/table-metadata';

function snapshotOf(meta: TableMetadata, snapshotId?: bigint): Snapshot | undefined {
  if (snapshotId === undefined) return currentSnapshot(meta);
  const s = meta.snapshots.find((x) => x['snapshot-id'] === snapshotId);
  if (!s) throw new IcebergArgumentError(`table ${meta.location} has no snapshot ${snapshotId}`);
  return s;
}

// Manifest lists never change once written (their names carry the snapshot id and a UUID), so the few most recent
// decodes are kept: a maintenance run reads the current list to plan and again to commit on the same head, and
// expiry and the orphan sweep read the same retained lists; each is decoded once.
const LIST_CACHE_SIZE = 32;
const listCache = new Map<string, ManifestFile[]>();

/** The manifests of a snapshot. The result is shared with later callers of the same list: do not mutate it. */
export async function readManifestList(io: FileIO, snapshot: Snapshot): Promise<ManifestFile[]> {
  const uri = snapshot['manifest-list'];
  const hit = listCache.get(uri);
  if (hit) {
    listCache.delete(uri); // most recently used goes last
    listCache.set(uri, hit);
    return [...hit];
  }
  const list = decodeManifestList(await io.read(uri), uri);
  listCache.set(uri, list);
  if (listCache.size > LIST_CACHE_SIZE) listCache.delete(listCache.keys().next().value!);
  return [...list];
}

/** Entries of one manifest with inherited snapshot ids and sequence numbers filled in (spec "Sequence Number Inheritance"). */
export async function readManifestEntries(io: FileIO, meta: TableMetadata, manifest: ManifestFile): Promise<ManifestEntry[]> {
  const spec = meta['partition-specs'].find((s) => s['spec-id'] === manifest.partition_spec_id);
  if (!spec) throw new IcebergArgumentError(`manifest ${manifest.manifest_path} uses partition spec ${manifest.partition_spec_id}, unknown to table ${meta.location}`);
  const entries = decodeManifest(await io.read(manifest.manifest_path), manifest.manifest_path, spec, currentSchema(meta));
  for (const e of entries) {
    e.snapshot_id ??= manifest.added_snapshot_id;
    if (e.status === EntryStatus.ADDED) {
      e.sequence_number ??= manifest.sequence_number;
      e.file_sequence_number ??= manifest.sequence_number;
    }
  }
  return entries;
}

/** Live data files (status ADDED or EXISTING) of a snapshot, default the current one; [] for a table without snapshots. */
export async function listDataFiles(io: FileIO, meta: TableMetadata, snapshotId?: bigint): Promise<DataFile[]> {
  const snapshot = snapshotOf(meta, snapshotId);
  if (!snapshot) return [];
  const manifests = (await readManifestList(io, snapshot)).filter((m) => m.content === 0);
  const perManifest = await mapLimit(manifests, (m) => readManifestEntries(io, meta, m));
  return perManifest.flat().filter((e) => e.status !== EntryStatus.DELETED).map((e) => e.data_file);
}
