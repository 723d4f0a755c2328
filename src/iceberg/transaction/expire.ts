// Snapshot expiry, as Iceberg's expire_snapshots(older_than, retain_last):
// which snapshots go (metadata only; commit it with prepareMetadataUpdate) and
// which files nothing retained can reach any more (delete them only AFTER the
// commit, so a failed commit never leaves the table pointing at deleted files).

import { IcebergArgumentError } from '../errors';
import type { FileIO } from '../io/file-io';
import { EntryStatus } from '../spec/manifest';
import type { ManifestFile } from '../spec/manifest-list';
import type { Snapshot } from '../spec/snapshot';
import { ancestry, type TableMetadata } from '../spec/table-metadata';
import { mapLimit } from '../table/parallel';
import { readManifestEntries, readManifestList } from '../table/scan';

export interface PlanExpireOptions {
  /** Snapshots created before this time (epoch ms) may expire. */
  olderThanMs: number;
  /** Ancestors of each branch head always kept (a branch's own min-snapshots-to-keep wins). @default 1 */
  retainLast?: number;
}

export interface ExpirePlan {
  /** Snapshots removed, oldest first. Empty: nothing to commit. */
  expireIds: bigint[];
  /** `meta` without them (snapshot log trimmed, refs kept); commit it with prepareMetadataUpdate. */
  metadata: TableMetadata;
  /** Data files, manifests, manifest lists (in that order) only expired snapshots referenced; delete after the commit. */
  filesToDelete: string[];
}

/**
 * Snapshots to keep, as Java's RemoveSnapshots computes them: every ref's
 * snapshot; per branch, its newest ancestors up to min-snapshots-to-keep
 * (default retainLast) and then every further ancestor not older than the
 * cutoff; and any snapshot on no branch that is not older than the cutoff.
 */
function retainedIds(meta: TableMetadata, olderThanMs: number, retainLast: number): Set<bigint> {
  const keep = new Set<bigint>();
  const onBranch = new Set<bigint>();
  const byId = new Map(meta.snapshots.map((s) => [s['snapshot-id'], s]));
  for (const ref of Object.values(meta.refs)) {
    const head = byId.get(ref['snapshot-id']);
    if (!head) continue;
    keep.add(head['snapshot-id']);
    if (ref.type !== 'branch') continue;
    const min = ref['min-snapshots-to-keep'] ?? retainLast;
    const maxAge = ref['max-snapshot-age-ms'];
    const cutoff = maxAge === undefined ? olderThanMs : Math.max(olderThanMs, Date.now() - maxAge);
    let kept = 0;
    let stop = false;
    for (const s of ancestry(meta, head)) {
      onBranch.add(s['snapshot-id']);
      if (!stop && (kept < min || s['timestamp-ms'] >= cutoff)) {
        keep.add(s['snapshot-id']);
        kept++;
      } else stop = true;
    }
  }
  // A table written without refs (v1 style) still has a current snapshot.
  const current = meta['current-snapshot-id'];
  if (current !== undefined && byId.has(current)) keep.add(current);
  for (const s of meta.snapshots) if (!onBranch.has(s['snapshot-id']) && s['timestamp-ms'] >= olderThanMs) keep.add(s['snapshot-id']);
  return keep;
}

/** Snapshot log without expired entries; history before a removed entry is dropped (Java's rule: the log must stay a valid lineage). */
function trimSnapshotLog(meta: TableMetadata, kept: Set<bigint>): TableMetadata['snapshot-log'] {
  let log: TableMetadata['snapshot-log'] = [];
  for (const e of meta['snapshot-log']) {
    if (kept.has(e['snapshot-id'])) log.push(e);
    else log = [];
  }
  return log;
}

async function manifestsOf(io: FileIO, s: Snapshot, tolerateMissing: boolean): Promise<ManifestFile[]> {
  try {
    return await readManifestList(io, s);
  } catch (err) {
    // An expired snapshot whose list an earlier, interrupted cleanup already deleted references nothing we can see.
    if (tolerateMissing && !(await io.exists(s['manifest-list']))) return [];
    throw err;
  }
}

/** Plans expiry. Reads the manifest lists and manifests of retained and expired snapshots to decide which files are unreachable. */
export async function planExpire(io: FileIO, meta: TableMetadata, opts: PlanExpireOptions): Promise<ExpirePlan> {
  const retainLast = opts.retainLast ?? 1;
  if (!Number.isInteger(retainLast) || retainLast < 1) throw new IcebergArgumentError(`retainLast must be an integer >= 1, got ${retainLast}`);
  const kept = retainedIds(meta, opts.olderThanMs, retainLast);
  const expired = meta.snapshots.filter((s) => !kept.has(s['snapshot-id'])).sort((a, b) => a['timestamp-ms'] - b['timestamp-ms']);
  if (expired.length === 0) return { expireIds: [], metadata: meta, filesToDelete: [] };
  const retained = meta.snapshots.filter((s) => kept.has(s['snapshot-id']));

  // Everything retained snapshots reach: their lists, their manifests, and the live files in those.
  // Each list and each distinct manifest is read once, a few at a time (READ_PARALLELISM).
  const keptManifests = new Map<string, ManifestFile>();
  for (const list of await mapLimit(retained, (s) => manifestsOf(io, s, false))) for (const mf of list) keptManifests.set(mf.manifest_path, mf);
  const candidates = new Map<string, ManifestFile>();
  for (const list of await mapLimit(expired, (s) => manifestsOf(io, s, true))) for (const mf of list) if (!keptManifests.has(mf.manifest_path)) candidates.set(mf.manifest_path, mf);

  const dataFiles = new Set<string>();
  // Every entry of an unreachable manifest is a candidate (a DELETED entry's file may be referenced nowhere else)...
  // (delete manifests: this writer never creates them; leave their files alone)
  const candidateData = [...candidates.values()].filter((mf) => mf.content === 0);
  for (const entries of await mapLimit(candidateData, (mf) => readManifestEntries(io, meta, mf))) for (const e of entries) dataFiles.add(e.data_file.file_path);
  // ...unless it is live in a retained manifest.
  if (dataFiles.size) {
    // A retained manifest without live files cannot keep a file alive: not worth opening.
    const keptData = [...keptManifests.values()].filter((mf) => mf.content === 0 && mf.added_files_count + mf.existing_files_count > 0);
    for (const entries of await mapLimit(keptData, (mf) => readManifestEntries(io, meta, mf))) {
      for (const e of entries) if (e.status !== EntryStatus.DELETED) dataFiles.delete(e.data_file.file_path);
    }
  }
  const keptLists = new Set(retained.map((s) => s['manifest-list']));
  const lists = expired.map((s) => s['manifest-list']).filter((l) => !keptLists.has(l));

  const expireIds = expired.map((s) => s['snapshot-id']);
  const gone = new Set(expireIds);
  const metadata: TableMetadata = {
    ...structuredClone(meta),
    snapshots: structuredClone(retained),
    'snapshot-log': trimSnapshotLog(meta, kept),
  };
  // Statistics files of removed snapshots go with them (written by other engines; kept in the extra fields).
  const statsPaths: string[] = [];
  for (const key of ['statistics', 'partition-statistics']) {
    const list = meta[key];
    if (!Array.isArray(list)) continue;
    const entries = list as Array<{ 'snapshot-id'?: bigint | number; 'statistics-path'?: string }>;
    metadata[key] = entries.filter((e) => !gone.has(BigInt(e['snapshot-id'] ?? -1)));
    for (const e of entries) if (gone.has(BigInt(e['snapshot-id'] ?? -1)) && e['statistics-path']) statsPaths.push(e['statistics-path']);
  }
  return { expireIds, metadata, filesToDelete: [...dataFiles, ...candidates.keys(), ...lists, ...statsPaths] };
}
