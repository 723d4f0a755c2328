// Manifest filtering and merging for every commit that adds a snapshot, with
// the semantics of Iceberg Java's MergingSnapshotProducer and
// ManifestMergeManager (MergeAppend):
//
// - a manifest written by an earlier snapshot with no ADDED or EXISTING files
//   (only DELETED entries) is dropped: it describes history, not the table;
// - with commit.manifest-merge.enabled, the manifests of each partition spec
//   are bin-packed from the end of the list into bins of
//   commit.manifest.target-size-bytes, so old manifests fill whole bins and
//   the remainder sits with this commit's new manifest. A bin of one manifest
//   is kept as it is; the bin holding the list's first manifest (this commit's
//   own) is merged only once it has commit.manifest.min-count-to-merge
//   manifests; any other bin of two or more is merged. So the list stays under
//   about min-count-to-merge manifests however many commits the table takes.
//
// A merged manifest keeps every live entry as EXISTING with its original
// snapshot id and data/file sequence numbers, keeps this commit's own ADDED
// and DELETED entries as they are, and drops entries DELETED by earlier
// snapshots. It is written by this commit (its files are the caller's to
// clean up if the commit is abandoned) and replaces its inputs only in the new
// manifest list: older snapshots still name the inputs until they expire.

import { randomUUID } from 'node:crypto';
import { IcebergArgumentError } from '../errors';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import { EntryStatus, type ManifestEntry } from '../spec/manifest';
import type { ManifestFile } from '../spec/manifest-list';
import type { Schema } from '../spec/schema';
import { tableProperty, type TableMetadata } from '../spec/table-metadata';
import { readManifestEntries } from '../table/scan';
import { mapLimit } from '../table/parallel';
import { metadataDir, writeManifest } from './manifest-writer';

export interface ManifestMergeSettings {
  /** Table property commit.manifest-merge.enabled. @default true */
  enabled: boolean;
  /** Table property commit.manifest.min-count-to-merge. @default 100 */
  minCountToMerge: number;
  /** Table property commit.manifest.target-size-bytes. @default 8 MiB */
  targetSizeBytes: number;
}

/** The merge settings of a table, from its properties (defaults in TABLE_PROPERTY_DEFAULTS). */
export function manifestMergeSettings(m: TableMetadata): ManifestMergeSettings {
  const bad = (key: string, v: string, want: string) =>
    new IcebergArgumentError(`table ${m.location}: table property ${key} is ${JSON.stringify(v)}, not ${want}; fix it in the table registry's properties (or remove it for the default)`);
  const enabled = tableProperty(m, 'commit.manifest-merge.enabled').trim().toLowerCase();
  if (enabled !== 'true' && enabled !== 'false') throw bad('commit.manifest-merge.enabled', enabled, 'true or false');
  const int = (key: 'commit.manifest.min-count-to-merge' | 'commit.manifest.target-size-bytes', min: number) => {
    const v = tableProperty(m, key);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw bad(key, v, `an integer of at least ${min}`);
    return n;
  };
  return { enabled: enabled === 'true', minCountToMerge: int('commit.manifest.min-count-to-merge', 1), targetSizeBytes: int('commit.manifest.target-size-bytes', 1) };
}

/** What the new snapshot is: merged manifests are written by it. */
export interface MergeContext {
  io: FileIO;
  metadata: TableMetadata;
  schema: Schema;
  snapshotId: bigint;
  sequenceNumber: number;
  /** Every file the merge writes is pushed here first, so an abandoned commit deletes it. */
  written: string[];
}

export interface MergeResult {
  /** The manifests for the new manifest list, in order. */
  manifests: ManifestFile[];
  /** Manifests this commit wrote that were merged away: referenced by nothing, delete them. */
  unused: string[];
}

/**
 * Splits `items` into bins of at most `target` bytes, filling from the END of
 * the list (the oldest manifests) so the partly filled bin holds the newest
 * ones; Java's ListPacker.packEnd with lookback 1. A manifest bigger than the
 * target gets a bin of its own. Order is kept within and across bins.
 */
export function packEnd(items: ManifestFile[], target: number): ManifestFile[][] {
  const bins: ManifestFile[][] = [];
  let bin: ManifestFile[] = [];
  let weight = 0;
  for (let i = items.length - 1; i >= 0; i--) {
    const mf = items[i]!;
    if (bin.length && weight + mf.manifest_length > target) {
      bins.push(bin);
      bin = [];
      weight = 0;
    }
    bin.unshift(mf);
    weight += mf.manifest_length;
  }
  if (bin.length) bins.push(bin);
  return bins.reverse();
}

const hasLiveFiles = (mf: ManifestFile) => mf.added_files_count > 0 || mf.existing_files_count > 0;

/** Drops delete-only manifests of earlier snapshots, then merges per partition spec (see the file comment). */
export async function filterAndMergeManifests(ctx: MergeContext, manifests: ManifestFile[]): Promise<MergeResult> {
  const own = (mf: ManifestFile) => mf.added_snapshot_id === ctx.snapshotId;
  const kept = manifests.filter((mf) => hasLiveFiles(mf) || own(mf));
  const settings = manifestMergeSettings(ctx.metadata);
  const first = kept[0];
  if (!settings.enabled || !first) return { manifests: kept, unused: [] };

  // Delete manifests (never written by coldtier) are carried as they are; data manifests grouped by spec, newest spec first as Java does.
  const bySpec = new Map<number, ManifestFile[]>();
  for (const mf of kept) if (mf.content === 0) bySpec.set(mf.partition_spec_id, [...(bySpec.get(mf.partition_spec_id) ?? []), mf]);
  const out: ManifestFile[] = [];
  const unused: string[] = [];
  for (const specId of [...bySpec.keys()].sort((a, b) => b - a)) {
    for (const bin of packEnd(bySpec.get(specId)!, settings.targetSizeBytes)) {
      if (bin.length === 1 || (bin.includes(first) && bin.length < settings.minCountToMerge)) {
        out.push(...bin);
        continue;
      }
      out.push(await mergeBin(ctx, specId, bin));
      for (const mf of bin) if (own(mf)) unused.push(mf.manifest_path);
    }
  }
  out.push(...kept.filter((mf) => mf.content !== 0));
  return { manifests: out, unused };
}

/** Reads the bin's manifests (a few at a time) and writes their entries as one manifest of this snapshot. */
async function mergeBin(ctx: MergeContext, specId: number, bin: ManifestFile[]): Promise<ManifestFile> {
  const spec = ctx.metadata['partition-specs'].find((s) => s['spec-id'] === specId);
  if (!spec) throw new IcebergArgumentError(`manifests use partition spec ${specId}, which table ${ctx.metadata.location} does not have`);
  const perManifest = await mapLimit(bin, (mf) => readManifestEntries(ctx.io, ctx.metadata, mf));
  const entries: ManifestEntry[] = [];
  for (const e of perManifest.flat()) {
    const mine = e.snapshot_id === ctx.snapshotId;
    if (e.status === EntryStatus.DELETED) {
      // Deleted by this commit: kept, so readers of this snapshot's changes see it. Deleted earlier: history only.
      if (mine) entries.push(e);
    } else if (e.status === EntryStatus.ADDED && mine) {
      // Still inherited from the manifest list (so a sequence number equal to ours was inherited, not explicit).
      entries.push({ ...e, sequence_number: e.sequence_number === ctx.sequenceNumber ? null : e.sequence_number, file_sequence_number: null });
    } else {
      entries.push({ ...e, status: EntryStatus.EXISTING });
    }
  }
  const uri = joinUri(metadataDir(ctx.metadata), `${randomUUID()}-m0.avro`);
  ctx.written.push(uri);
  return writeManifest(ctx.io, entries, spec, ctx.schema, ctx.snapshotId, uri, ctx.sequenceNumber);
}
