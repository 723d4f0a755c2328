// Compaction planning, as Iceberg's rewrite_data_files binpack strategy does
// it: per partition, gather the files too small to be worth keeping, and bin
// them into groups of about the target size, each rewritten into ~one file.
// Planning only reads manifests; a dry run is just this plan.

import { IcebergArgumentError } from '../errors';
import type { FileIO } from '../io/file-io';
import type { DataFile } from '../spec/manifest';
import { currentSnapshot, tableProperty, type TableMetadata } from '../spec/table-metadata';
import { mapLimit } from '../table/parallel';
import { readManifestEntries, readManifestList } from '../table/scan';
import { EntryStatus } from '../spec/manifest';
import { partitionKey } from './snapshot-producer';

export interface PlanRewriteOptions {
  /** Size of the files to write, and of each group of inputs. @default table property write.target-file-size-bytes (128 MiB) */
  targetFileSizeBytes?: number;
  /** A partition is compacted only if it has at least this many small files. @default 5 (Spark's min-input-files) */
  minInputFiles?: number;
  /** Files below this size are "small". @default 75% of the target (Spark's min-file-size-bytes) */
  minFileSizeBytes?: number;
}

export interface RewriteGroup {
  specId: number;
  partition: DataFile['partition'];
  files: DataFile[];
  bytes: number;
  rows: number;
  /** Files the group should come out as: ceil(bytes / target). Compression of merged row groups may make it fewer. */
  expectedOutputFiles: number;
}

export interface RewritePlan {
  /** The snapshot the plan was made from (null for a table without snapshots); pass it to prepareReplace. */
  startingSnapshotId: bigint | null;
  targetFileSizeBytes: number;
  groups: RewriteGroup[];
  /** Totals over all groups: what a commit would replace. */
  inputFiles: number;
  inputBytes: number;
  inputRows: number;
  expectedOutputFiles: number;
}

/**
 * First-fit decreasing into bins of `capacity` bytes. A file larger than the
 * capacity cannot occur here (only small files are candidates).
 */
function binPack(files: DataFile[], capacity: number): DataFile[][] {
  const bins: Array<{ size: number; files: DataFile[] }> = [];
  for (const f of [...files].sort((a, b) => b.file_size_in_bytes - a.file_size_in_bytes)) {
    const bin = bins.find((b) => b.size + f.file_size_in_bytes <= capacity);
    if (bin) {
      bin.size += f.file_size_in_bytes;
      bin.files.push(f);
    } else bins.push({ size: f.file_size_in_bytes, files: [f] });
  }
  return bins.map((b) => b.files);
}

/** Plans a binpack compaction of the current snapshot. Throws if the table has delete files (rewriting would resurrect deleted rows). */
export async function planRewrite(io: FileIO, meta: TableMetadata, opts: PlanRewriteOptions = {}): Promise<RewritePlan> {
  const target = opts.targetFileSizeBytes ?? Number(tableProperty(meta, 'write.target-file-size-bytes'));
  const minInputFiles = opts.minInputFiles ?? 5;
  const minFileSize = opts.minFileSizeBytes ?? Math.floor(target * 0.75);
  if (!(target > 0) || !(minInputFiles >= 2)) throw new IcebergArgumentError(`rewrite needs targetFileSizeBytes > 0 and minInputFiles >= 2 (got ${target}, ${minInputFiles})`);
  const snapshot = currentSnapshot(meta);
  const plan: RewritePlan = { startingSnapshotId: snapshot?.['snapshot-id'] ?? null, targetFileSizeBytes: target, groups: [], inputFiles: 0, inputBytes: 0, inputRows: 0, expectedOutputFiles: 0 };
  if (!snapshot) return plan;

  const manifests = await readManifestList(io, snapshot);
  if (manifests.some((m) => m.content === 1)) {
    throw new IcebergArgumentError(`table ${meta.location} has delete files; compaction that ignores them would resurrect deleted rows`);
  }
  const byPartition = new Map<string, DataFile[]>();
  // Only manifests with live files can hold a file to compact (delete-only manifests describe history).
  const live = manifests.filter((m) => m.added_files_count + m.existing_files_count > 0);
  for (const entries of await mapLimit(live, (m) => readManifestEntries(io, meta, m))) {
    for (const e of entries) {
      if (e.status === EntryStatus.DELETED || e.data_file.file_size_in_bytes >= minFileSize) continue;
      const key = partitionKey(e.data_file);
      byPartition.set(key, [...(byPartition.get(key) ?? []), e.data_file]);
    }
  }
  // Deterministic order (partition key), so two plans of the same snapshot agree.
  for (const key of [...byPartition.keys()].sort()) {
    const small = byPartition.get(key)!;
    if (small.length < minInputFiles) continue;
    for (const files of binPack(small, target)) {
      // One file alone gains nothing from a rewrite.
      if (files.length < 2) continue;
      const bytes = files.reduce((a, f) => a + f.file_size_in_bytes, 0);
      const rows = files.reduce((a, f) => a + f.record_count, 0);
      const group: RewriteGroup = { specId: files[0]!.spec_id, partition: files[0]!.partition, files, bytes, rows, expectedOutputFiles: Math.max(1, Math.ceil(bytes / target)) };
      plan.groups.push(group);
      plan.inputFiles += files.length;
      plan.inputBytes += bytes;
      plan.inputRows += rows;
      plan.expectedOutputFiles += group.expectedOutputFiles;
    }
  }
  return plan;
}
