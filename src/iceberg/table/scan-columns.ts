// Column scans for audits and backfills: read a few columns of the live data
// files that can hold rows in a time range (pruned by manifest partition
// summaries, partition values and column bounds), one Arrow table per file.
//
// Timestamps come out exact: every timestamp/timestamptz column of the result
// is an Arrow Int64 of µs since the epoch (UTC), so `.get(i)` is a bigint.
// (apache-arrow's Timestamp vectors return float milliseconds, which would
// drop the µs a watermark anti-join needs.)

import { Field, Int64, makeData, RecordBatch, Schema as ArrowSchema, Struct, Table, Type } from 'apache-arrow';
import { readDataFile } from '../arrow/parquet-reader';
import { refsFor, takeRows } from '../arrow/take';
import { validity } from '../arrow/value-reader';
import { IcebergArgumentError } from '../errors';
import type { FileIO } from '../io/file-io';
import { EntryStatus, type DataFile } from '../spec/manifest';
import type { NestedField } from '../spec/schema';
import { currentSchema, currentSnapshot, type TableMetadata } from '../spec/table-metadata';
import type { ManifestFile } from '../spec/manifest-list';
import { mapLimit } from './parallel';
import { fileMayMatch, manifestMayMatch, type MicrosRange } from './prune';
import { readManifestEntries, readManifestList } from './scan';

export interface TimeFilter {
  /** A timestamp or timestamptz column of the current schema. */
  column: string;
  /** Inclusive lower bound, epoch ms. */
  fromMs: number;
  /** Exclusive upper bound, epoch ms. */
  toMs: number;
}

export interface ScanStats {
  manifests: number;
  manifestsSkipped: number;
  files: number;
  filesSkipped: number;
  rowsRead: number;
  rowsReturned: number;
}

export interface PlanScanOptions {
  filter?: TimeFilter;
  /** @default the current snapshot */
  snapshotId?: bigint;
}

export interface ScanColumnsOptions extends PlanScanOptions {
  /** Column names of the current schema, in the order wanted. */
  columns: string[];
  /** Filled in while scanning (pruning and row counts), for logs and tests. */
  stats?: ScanStats;
}

const emptyStats = (): ScanStats => ({ manifests: 0, manifestsSkipped: 0, files: 0, filesSkipped: 0, rowsRead: 0, rowsReturned: 0 });

function resolve(meta: TableMetadata, names: string[]): NestedField[] {
  const schema = currentSchema(meta);
  return names.map((n) => {
    const f = schema.fields.find((x) => x.name === n);
    if (!f) throw new IcebergArgumentError(`column ${JSON.stringify(n)} is not in the schema of ${meta.location} (${schema.fields.map((x) => x.name).join(', ')})`);
    return f;
  });
}

function timeField(meta: TableMetadata, filter: TimeFilter): NestedField {
  const [f] = resolve(meta, [filter.column]);
  if (f!.type !== 'timestamp' && f!.type !== 'timestamptz') throw new IcebergArgumentError(`time filter column ${filter.column} is ${JSON.stringify(f!.type)}, not a timestamp`);
  return f!;
}

/** The live data files of a snapshot that may hold rows in the filter's range. */
export async function planScanFiles(io: FileIO, meta: TableMetadata, opts: PlanScanOptions = {}, stats: ScanStats = emptyStats()): Promise<DataFile[]> {
  const snapshot = opts.snapshotId === undefined ? currentSnapshot(meta) : meta.snapshots.find((s) => s['snapshot-id'] === opts.snapshotId);
  if (!snapshot) {
    if (opts.snapshotId !== undefined) throw new IcebergArgumentError(`table ${meta.location} has no snapshot ${opts.snapshotId}`);
    return [];
  }
  const fieldId = opts.filter ? timeField(meta, opts.filter).id : undefined;
  const range: MicrosRange | undefined = opts.filter ? { from: BigInt(opts.filter.fromMs) * 1000n, to: BigInt(opts.filter.toMs) * 1000n } : undefined;
  const manifests = await readManifestList(io, snapshot);
  // Delete files would have to be applied to get the right rows; refuse rather than over-count.
  if (manifests.some((m) => m.content === 1)) throw new IcebergArgumentError(`table ${meta.location} has delete files, which this scan cannot apply`);
  const out: DataFile[] = [];
  const open: ManifestFile[] = [];
  for (const mf of manifests) {
    stats.manifests++;
    const spec = meta['partition-specs'].find((s) => s['spec-id'] === mf.partition_spec_id);
    // A manifest with only deleted entries holds nothing to scan; one whose partitions miss the range neither.
    if (mf.added_files_count + mf.existing_files_count === 0 || (range && fieldId !== undefined && !manifestMayMatch(mf, spec, fieldId, range))) {
      stats.manifestsSkipped++;
      stats.filesSkipped += mf.added_files_count + mf.existing_files_count;
    } else open.push(mf);
  }
  const read = await mapLimit(open, (mf) => readManifestEntries(io, meta, mf));
  for (const [i, mf] of open.entries()) {
    const spec = meta['partition-specs'].find((s) => s['spec-id'] === mf.partition_spec_id);
    for (const e of read[i]!) {
      if (e.status === EntryStatus.DELETED) continue;
      if (range && fieldId !== undefined && !fileMayMatch(e.data_file, spec, fieldId, range)) stats.filesSkipped++;
      else out.push(e.data_file);
    }
  }
  stats.files += out.length;
  return out;
}

/** Relabels timestamp columns as Int64 µs (same buffers, no copy). */
function timestampsAsMicros(t: Table): Table {
  const fields = t.schema.fields.map((f) => (f.type.typeId === Type.Timestamp ? new Field(f.name, new Int64(), f.nullable, f.metadata) : f));
  if (fields.every((f, i) => f === t.schema.fields[i])) return t;
  const schema = new ArrowSchema(fields, t.schema.metadata);
  return new Table(schema, t.batches.map((b) => {
    const children = b.data.children.map((d, i) => (fields[i] === t.schema.fields[i] ? d : d.clone(fields[i]!.type)));
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children }));
  }));
}

/** Rows of `t` whose column `col` (Int64 µs) is in `range`; whole batches pass through untouched. */
function filterRows(t: Table, col: number, range: MicrosRange): Table {
  const batches: RecordBatch[] = [];
  for (const b of t.batches) {
    const data = b.data.children[col]!;
    const values = data.values as BigInt64Array;
    const valid = validity(data);
    const keep: number[] = [];
    for (let i = 0; i < b.numRows; i++) if (valid(i) && values[i]! >= range.from && values[i]! < range.to) keep.push(i);
    if (keep.length === b.numRows) batches.push(b);
    else if (keep.length > 0) {
      const refs = refsFor([b.numRows], keep);
      const children = t.schema.fields.map((f, j) => takeRows(f.type, [b.data.children[j]!], refs));
      batches.push(new RecordBatch(t.schema, makeData({ type: new Struct(t.schema.fields), length: keep.length, nullCount: 0, children })));
    }
  }
  return new Table(t.schema, batches);
}

/**
 * Yields, per data file that may match, an Arrow table of `columns` (named as
 * in the current schema; timestamps as Int64 µs), filtered to
 * [fromMs, toMs) on the filter column; files left with no rows are not
 * yielded. Files are read one at a time, so memory is one file's columns.
 */
export async function* scanColumns(io: FileIO, meta: TableMetadata, opts: ScanColumnsOptions): AsyncIterable<Table> {
  const stats = opts.stats ?? emptyStats();
  const fields = resolve(meta, opts.columns);
  const tf = opts.filter ? timeField(meta, opts.filter) : undefined;
  // The filter column is read even when not requested, and dropped again after filtering.
  const read = tf && !fields.some((f) => f.id === tf.id) ? [...fields, tf] : fields;
  const files = await planScanFiles(io, meta, opts, stats);
  for (const f of files) {
    let t = timestampsAsMicros(await readDataFile(io, f.file_path, read));
    stats.rowsRead += t.numRows;
    if (tf && opts.filter) {
      t = filterRows(t, read.findIndex((x) => x.id === tf.id), { from: BigInt(opts.filter.fromMs) * 1000n, to: BigInt(opts.filter.toMs) * 1000n });
      if (read.length !== fields.length) t = t.selectAt(fields.map((_, i) => i));
    }
    stats.rowsReturned += t.numRows;
    if (t.numRows > 0) yield t;
  }
}
