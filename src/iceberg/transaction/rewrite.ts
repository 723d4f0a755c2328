// Compaction execution: each planned group's files are read back (by field id,
// into the current schema), sorted by the table's sort order when it has one,
// and written as new files of the target size. Nothing is committed here:
// prepareReplace swaps the files in. Groups are processed one at a time, so
// memory is bounded by one group's decoded rows (about the target size times
// the Parquet compression ratio).

import { Table } from 'apache-arrow';
import { arrowSchema } from '../arrow/arrow-schema';
import { readDataFile } from '../arrow/parquet-reader';
import { sortableBy, sortTable } from '../arrow/sort';
import { IcebergError } from '../errors';
import type { FileIO } from '../io/file-io';
import type { DataFile } from '../spec/manifest';
import { currentSchema, type TableMetadata } from '../spec/table-metadata';
import { writeDataFiles } from '../writer/data-writer';
import type { RewriteGroup, RewritePlan } from './rewrite-plan';

export interface ExecuteRewriteOptions {
  /** @default the plan's targetFileSizeBytes */
  targetFileSizeBytes?: number;
  /** Sort rewritten rows by the table's default sort order (and record it on the files). @default true */
  sort?: boolean;
  /** Called after each group is written: heartbeat here (the whole rewrite may take long). */
  onGroupWritten?: (p: { index: number; groups: number; group: RewriteGroup; added: DataFile[] }) => void | Promise<void>;
}

export interface RewriteResult {
  /** New files, not yet part of any snapshot: delete them if the replace is not committed. */
  added: DataFile[];
  /** The files they replace (the plan's inputs). */
  removed: DataFile[];
}

async function readGroup(io: FileIO, meta: TableMetadata, group: RewriteGroup): Promise<Table> {
  const schema = currentSchema(meta);
  const batches = [];
  for (const f of group.files) {
    const t = await readDataFile(io, f.file_path, schema.fields);
    // A file whose row count disagrees with its manifest entry is corrupt or foreign: never rewrite it.
    if (t.numRows !== f.record_count) throw new IcebergError(`iceberg rewrite of ${meta.location}: data file ${f.file_path} has ${t.numRows} rows, its manifest entry says ${f.record_count}`);
    batches.push(...t.batches);
  }
  return new Table(arrowSchema(schema), batches);
}

/**
 * Rewrites every group of `plan` into new data files. On failure, files
 * written so far are deleted and the error is rethrown; nothing is committed.
 */
export async function executeRewrite(io: FileIO, meta: TableMetadata, plan: RewritePlan, opts: ExecuteRewriteOptions = {}): Promise<RewriteResult> {
  const schema = currentSchema(meta);
  const order = meta['sort-orders'].find((o) => o['order-id'] === meta['default-sort-order-id']);
  const sort = (opts.sort ?? true) && sortableBy(order, schema) ? order : undefined;
  const added: DataFile[] = [];
  try {
    for (const [i, group] of plan.groups.entries()) {
      let rows: Table | undefined = await readGroup(io, meta, group);
      if (sort) rows = sortTable(rows, schema, sort);
      const files = await writeDataFiles(io, meta, rows, {
        targetFileSizeBytes: opts.targetFileSizeBytes ?? plan.targetFileSizeBytes,
        bytesPerRowHint: group.rows > 0 ? group.bytes / group.rows : undefined,
        ...(sort ? { sortOrderId: sort['order-id'] } : {}),
      });
      rows = undefined;
      const written = files.reduce((a, f) => a + f.record_count, 0);
      added.push(...files);
      if (written !== group.rows) throw new IcebergError(`iceberg rewrite of ${meta.location}: wrote ${written} rows for a group of ${group.rows}`);
      await opts.onGroupWritten?.({ index: i, groups: plan.groups.length, group, added: files });
    }
  } catch (err) {
    await Promise.all(added.map((f) => io.delete(f.file_path).catch(() => undefined)));
    throw err;
  }
  return { added, removed: plan.groups.flatMap((g) => g.files) };
}
