// The ClickHouse-encoded write path: ClickHouse sorts and encodes each partition of a batch as zstd Parquet, and the
// Iceberg library adopts each file (field ids added by rewriting only the footer, metrics taken from it). The rows
// never become Arrow in this process, so a batch costs a few MB of memory instead of hundreds. Tables this path
// cannot write exactly as the spec requires use the Arrow path instead (see batch.ts).

import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../clickhouse/client';
import { exportPartition, partitionColumns, partitionGroups, partitionValue, valueExprs, type ClickHouseBatch } from '../../clickhouse/parquet-export';
import { boundedMap } from '../bounded';
import { deleteFiles } from '../commit';
import { dataFileName, DataSchemaMismatchError, joinUri, partitionDir, tableBytesPerRow, tableProperty, writeAdoptedFile, type DataFile, type FileIO, type TableMetadata } from '../../iceberg';

/** Files of a batch encoded (by ClickHouse) and adopted/uploaded (by the worker) at once (registry: writeConcurrency). */
export const WRITE_CONCURRENCY = 1;

/** Encoded bytes per row assumed before a table has any file to learn from (sizes the first files only). */
const DEFAULT_BYTES_PER_ROW = 100;

/**
 * Writes one batch (`where`) as data files through ClickHouse's Parquet encoder: one query counts the rows per
 * partition (and checks strings are UTF-8, and counts NaNs), then one query per file streams that partition's rows,
 * sorted, as Parquet, `concurrency` files at a time. Returns the files (in partition order) for prepareAppend; on
 * error, files already written are deleted.
 */
export async function writeWithClickHouse(ch: ClickHouse, io: FileIO, meta: TableMetadata, batch: ClickHouseBatch, concurrency = WRITE_CONCURRENCY): Promise<{ files: DataFile[]; rows: number }> {
  const b: ClickHouseBatch = { floatDictionary: tableProperty(meta, 'coldtier.write.parquet.float-dictionary') === 'true', ...batch };
  const exprs = valueExprs(b);
  const parts = partitionColumns(meta, b, exprs);
  const groups = await partitionGroups(ch, b, parts, exprs);
  const bytesPerRow = tableBytesPerRow(meta) ?? DEFAULT_BYTES_PER_ROW;
  const operationId = randomUUID();
  // Every file of the batch as one task (partition, slice), numbered up front so names do not depend on timing.
  const tasks = groups.flatMap((group) => {
    const nFiles = Math.max(1, Math.round((group.rows * bytesPerRow) / b.targetFileSizeBytes));
    const perFile = Math.ceil(group.rows / nFiles);
    return Array.from({ length: nFiles }, (_, k) => ({ group, nFiles, split: nFiles > 1 ? { limit: perFile, offset: k * perFile } : undefined }));
  });
  const written: DataFile[] = [];
  const discard = () => deleteFiles(io, written);
  let files: DataFile[];
  try {
    // With concurrency > 1, ClickHouse sorts and encodes one file while it encodes another or the worker adopts and
    // uploads one; at most `concurrency` files' bytes in the worker at once.
    files = await boundedMap(tasks, async ({ group, nFiles, split }, i) => {
      const values = parts.map((p, j) => partitionValue(p.transform, p.type, group.values[j]!));
      const partition = Object.fromEntries(parts.map((p, j) => [p.name, values[j]!]));
      const dir = partitionDir(meta, b.schema, values);
      const parquet = await exportPartition(ch, b, { exprs, parts, group, groups: groups.length, ...(split ? { split } : {}) });
      const uri = joinUri(dir, dataFileName(operationId, i + 1));
      const file = await writeAdoptedFile(io, meta, parquet, { uri, schema: b.schema, partition, sortOrderId: b.sortOrderId, nanFields: Object.keys(group.nans).map(Number).filter((id) => group.nans[id]! > 0), ...(nFiles === 1 ? { nanCounts: group.nans } : {}) }).catch((err: unknown) => {
        if (!(err instanceof DataSchemaMismatchError)) throw err;
        // This server encodes a column differently from what the spec requires (another ClickHouse version?).
        throw new DataSchemaMismatchError(err.column, `${err.message.replace(/^.*? at column \S+: /, '')}; ClickHouse's Parquet for table ${b.table} cannot be adopted as is: set encoder: arrow for it in the table registry`);
      });
      written.push(file);
      return file;
    }, { limit: concurrency });
  } catch (err) {
    await discard();
    throw err;
  }
  const rows = files.reduce((a, f) => a + f.record_count, 0);
  const expected = groups.reduce((a, g) => a + g.rows, 0);
  if (rows !== expected) {
    await discard();
    throw new Error(`clickhouse parquet write of ${b.table}: the batch counted ${expected} rows but the files hold ${rows}; the source changed during the read (a mutation or TTL); this attempt wrote nothing and will retry`);
  }
  return { files, rows };
}
