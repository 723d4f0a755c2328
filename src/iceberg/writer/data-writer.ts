// writeDataFiles: Arrow rows → zstd Parquet data files + their manifest
// metadata (DataFile). Files are only written here; nothing is committed.

import { randomUUID } from 'node:crypto';
import { Table, tableToIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { conformToSchema } from '../arrow/arrow-schema';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import type { DataFile } from '../spec/manifest';
import { annotateParquet, fieldIdsOfType } from '../parquet/annotate';
import type { Schema } from '../spec/schema';
import { currentSchema, defaultSpec, tableProperty, type TableMetadata } from '../spec/table-metadata';
import { humanPartitionValue, javaUrlEncode } from '../spec/transforms';
import type { IcebergValue } from '../spec/values';
import { arrowMetrics, footerMetrics } from './metrics';
import { bindPartitionSpec, groupByPartition } from './partitioner';

export interface WriteDataFilesOptions {
  /** Roll to a new file once a file's encoded size reaches this. @default table property write.target-file-size-bytes, else 128 MiB */
  targetFileSizeBytes?: number;
  /**
   * Sort order the rows follow (e.g. the SELECT had the matching ORDER BY); recorded on the files only where the
   * table allows it (see recordedSortOrder). @default 0 (unsorted)
   */
  sortOrderId?: number;
  /** Max rows per Parquet row group. @default 1,048,576 */
  rowGroupRows?: number;
  /**
   * Write with this schema instead of the table's current one: the evolved
   * schema from icebergSchemaFromClickHouse, which must then also be passed to
   * prepareAppend({ schema }). @default the table's current schema
   */
  schema?: Schema;
  /**
   * Encoded Parquet bytes per row to size the first file by (later files use
   * what the previous file achieved). Compaction passes its input files'
   * ratio; without it the first file is sized by the in-memory Arrow size,
   * which overestimates and would split a compacted group into small files.
   * @default estimated from the Arrow data
   */
  bytesPerRowHint?: number;
}

/** How the table wants its files encoded: the reader workarounds of docs/interop.md, each a table property. */
export interface ParquetEncoding {
  schema: Schema;
  floatDictionary: boolean;
  uuidStatistics: boolean;
  nanStatistics: boolean;
}

export function parquetEncoding(meta: TableMetadata, schema: Schema): ParquetEncoding {
  return {
    schema,
    floatDictionary: tableProperty(meta, 'coldtier.write.parquet.float-dictionary') === 'true',
    uuidStatistics: tableProperty(meta, 'coldtier.write.uuid-bounds') === 'true',
    nanStatistics: tableProperty(meta, 'coldtier.write.parquet.nan-float-statistics') === 'true',
  };
}

/** Encodes `table`; `nanFields` are the float fields holding NaN (their min/max go unless enc.nanStatistics). */
function encodeParquet(table: Table, rowGroupRows: number, enc: ParquetEncoding, nanFields: number[] = []): Uint8Array {
  // Both arguments are consumed (freed) by writeParquet, so build them per call.
  let props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(rowGroupRows);
  if (!enc.floatDictionary) {
    const floats = fieldIdsOfType(enc.schema.fields, ['float', 'double']);
    const topLevel = enc.schema.fields.filter((f) => floats.has(f.id));
    // Column options take a top-level name; a float nested in a list or map turns dictionaries off for the file.
    if (topLevel.length < floats.size) props = props.setDictionaryEnabled(false);
    for (const f of topLevel) props = props.setColumnDictionaryEnabled(f.name, false);
  }
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props.build());
  return annotateParquet(bytes, enc.schema, { uuidStatistics: enc.uuidStatistics, noMinMax: enc.nanStatistics ? [] : nanFields });
}

/** Rows encoded to learn the compression ratio when a table has no files yet and a partition must be split. */
const SAMPLE_ROWS = 8192;

/** Encoded bytes per row of the table's current files (from the snapshot summary), if it has any. */
export function tableBytesPerRow(meta: TableMetadata): number | undefined {
  const head = meta.snapshots.find((s) => s['snapshot-id'] === meta['current-snapshot-id']);
  const rows = Number(head?.summary?.['total-records'] ?? 0);
  const bytes = Number(head?.summary?.['total-files-size'] ?? 0);
  return rows > 0 && bytes > 0 ? bytes / rows : undefined;
}

/** Rough in-memory size of the rows: when even this fits the target, the group is one file. */
function arrowBytes(table: Table): number {
  let total = 0;
  for (const batch of table.batches) {
    const stack = [...batch.data.children];
    while (stack.length) {
      const d = stack.pop()!;
      const offsets = d.valueOffsets as Int32Array | undefined;
      if (offsets && d.values) total += offsets[d.length]! - offsets[0]! + offsets.byteLength;
      else if (d.values) total += (d.values as Uint8Array).byteLength;
      stack.push(...d.children);
    }
  }
  return total;
}

/**
 * Directory of a partition's data files: `<write.data.path or location/data>/<field>=<value>/…`, values in the
 * human form Iceberg Java uses (URL-encoded like java.net.URLEncoder).
 */
export function partitionDir(meta: TableMetadata, schema: Schema, values: Array<IcebergValue | null>): string {
  const spec = defaultSpec(meta);
  const dataLocation = typeof meta.properties['write.data.path'] === 'string' ? meta.properties['write.data.path'] : joinUri(meta.location, 'data');
  if (!spec.fields.length) return dataLocation;
  const bound = bindPartitionSpec(spec, schema);
  const path = bound.map((f, i) => `${javaUrlEncode(spec.fields[i]!.name)}=${javaUrlEncode(humanPartitionValue(f.transform, f.resultType, values[i] ?? null))}`).join('/');
  return joinUri(dataLocation, path);
}

/** Table property: record the sort order on each data file (sort_order_id) when its rows follow it. */
export const RECORD_FILE_SORT_ORDER = 'coldtier.record-file-sort-order';

/**
 * The sort_order_id a data file written sorted by `sortOrderId` records. The table keeps its sort order either way
 * (sort-orders, default-sort-order-id), and every file is written sorted; but ClickHouse (through 26.7) answers
 * `ORDER BY <sort key>` wrongly on a table whose files all claim the default sort order: it reads the files "in
 * order" and concatenates them instead of merging (ClickHouse issues #89178, #113095). So the claim is only made
 * when the table property coldtier.record-file-sort-order is "true".
 */
export function recordedSortOrder(meta: TableMetadata, sortOrderId: number): number {
  return meta.properties[RECORD_FILE_SORT_ORDER] === 'true' ? sortOrderId : 0;
}

/** Iceberg Java's OutputFileFactory name: one operation id per write, a counter per file. */
export function dataFileName(operationId: string, n: number): string {
  return `00000-0-${operationId}-${String(n).padStart(5, '0')}.parquet`;
}

/**
 * Writes `rows` (columns named like the current schema, e.g. from the SELECT
 * list of icebergSchemaFromClickHouse) as Parquet data files under the table's
 * data location: one file per partition, rolled at the target size. Returns
 * the files for prepareAppend; on error, files already written are deleted.
 */
export async function writeDataFiles(io: FileIO, meta: TableMetadata, rows: Table, opts: WriteDataFilesOptions = {}): Promise<DataFile[]> {
  if (rows.numRows === 0) return [];
  const schema = opts.schema ?? currentSchema(meta);
  const spec = defaultSpec(meta);
  const target = opts.targetFileSizeBytes ?? Number(tableProperty(meta, 'write.target-file-size-bytes'));
  const rowGroupRows = opts.rowGroupRows ?? 1024 * 1024;
  const enc = parquetEncoding(meta, schema);
  const conformed = conformToSchema(rows, schema, { table: meta.location });
  const groups = groupByPartition(conformed, spec, schema);
  const names = spec.fields.map((f) => f.name);
  const operationId = randomUUID();
  let fileCount = 0;
  let encodedBytesPerRow: number | undefined = opts.bytesPerRowHint && opts.bytesPerRowHint > 0 ? opts.bytesPerRowHint : tableBytesPerRow(meta);
  const written: DataFile[] = [];

  try {
    for (const group of groups) {
      const slices = group.runs.map((r) => conformed.batches[r.batch]!.slice(r.start, r.end));
      const groupTable = new Table(conformed.schema, slices);
      const dir = partitionDir(meta, schema, group.values);
      const partition: Record<string, IcebergValue | null> = {};
      names.forEach((n, i) => { partition[n] = group.values[i] ?? null; });

      for (let start = 0; start < group.rows; ) {
        let take: number;
        if (encodedBytesPerRow !== undefined) {
          take = Math.max(1, Math.floor(target / encodedBytesPerRow));
        } else if ((arrowBytes(groupTable) / group.rows) * (group.rows - start) <= target) {
          take = group.rows - start; // even unencoded it fits one file
        } else {
          // A split is needed and nothing tells the encoded size yet: Arrow bytes overestimate it several times, so
          // learn it from a sample before sizing the first file.
          const sample = Math.min(group.rows - start, SAMPLE_ROWS);
          encodedBytesPerRow = encodeParquet(groupTable.slice(start, start + sample), rowGroupRows, enc).byteLength / sample;
          take = Math.max(1, Math.floor(target / encodedBytesPerRow));
        }
        // Avoid a tiny trailing file: absorb a remainder under 10% of a file.
        if (group.rows - (start + take) < take * 0.1) take = group.rows - start;
        const chunk = groupTable.slice(start, start + take);
        const metrics = arrowMetrics(chunk, schema, { uuidBounds: enc.uuidStatistics });
        const nanFields = Object.entries(metrics.nan_value_counts).filter(([, n]) => n > 0).map(([id]) => Number(id));
        const bytes = encodeParquet(chunk, rowGroupRows, enc, nanFields);
        const uri = joinUri(dir, dataFileName(operationId, ++fileCount));
        await io.write(uri, bytes);
        const footer = footerMetrics(bytes);
        written.push({
          content: 0,
          file_path: uri,
          file_format: 'PARQUET',
          spec_id: spec['spec-id'],
          partition,
          record_count: chunk.numRows,
          file_size_in_bytes: bytes.byteLength,
          column_sizes: footer.column_sizes,
          value_counts: { ...footer.value_counts, ...metrics.value_counts },
          null_value_counts: { ...footer.null_value_counts, ...metrics.null_value_counts },
          nan_value_counts: metrics.nan_value_counts,
          lower_bounds: metrics.lower_bounds,
          upper_bounds: metrics.upper_bounds,
          split_offsets: footer.split_offsets,
          sort_order_id: recordedSortOrder(meta, opts.sortOrderId ?? 0),
        });
        encodedBytesPerRow = bytes.byteLength / chunk.numRows;
        start += take;
      }
    }
  } catch (err) {
    await Promise.all(written.map((f) => io.delete(f.file_path).catch(() => undefined)));
    throw err;
  }
  return written;
}
