// The ClickHouse-encoded write path: ClickHouse sorts and encodes each partition of a batch as zstd Parquet, and the
// Iceberg library adopts each file (field ids added by rewriting only the footer, metrics taken from it). The rows
// never become Arrow in this process, so a batch costs a few MB of memory instead of hundreds. Tables this path
// cannot write exactly as the spec requires use the Arrow path instead (see batch.ts).

import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../clickhouse/client';
import { exportPartition, partitionColumns, partitionGroups, partitionValue, valueExprs, type ClickHouseBatch } from '../../clickhouse/parquet-export';
import { dataFileName, DataSchemaMismatchError, joinUri, partitionDir, tableBytesPerRow, tableProperty, writeAdoptedFile, type DataFile, type FileIO, type TableMetadata } from '../../iceberg';

/** Encoded bytes per row assumed before a table has any file to learn from (sizes the first files only). */
const DEFAULT_BYTES_PER_ROW = 100;

/**
 * Writes one batch (`where`) as data files through ClickHouse's Parquet encoder: one query counts the rows per
 * partition (and checks strings are UTF-8, and counts NaNs), then one query per file streams that partition's rows,
 * sorted, as Parquet. Returns the files for prepareAppend; on error, files already written are deleted.
 */
export async function writeWithClickHouse(ch: ClickHouse, io: FileIO, meta: TableMetadata, batch: ClickHouseBatch): Promise<{ files: DataFile[]; rows: number }> {
  const b: ClickHouseBatch = { floatDictionary: tableProperty(meta, 'coldtier.write.parquet.float-dictionary') === 'true', ...batch };
  const exprs = valueExprs(b);
  const parts = partitionColumns(meta, b, exprs);
  const groups = await partitionGroups(ch, b, parts, exprs);
  const bytesPerRow = tableBytesPerRow(meta) ?? DEFAULT_BYTES_PER_ROW;
  const operationId = randomUUID();
  const written: DataFile[] = [];
  const discard = () => Promise.all(written.map((f) => io.delete(f.file_path).catch(() => undefined)));
  let fileCount = 0;
  try {
    for (const group of groups) {
      const nFiles = Math.max(1, Math.round((group.rows * bytesPerRow) / b.targetFileSizeBytes));
      const perFile = Math.ceil(group.rows / nFiles);
      const values = parts.map((p, i) => partitionValue(p.transform, p.type, group.values[i]!));
      const partition = Object.fromEntries(parts.map((p, i) => [p.name, values[i]!]));
      const dir = partitionDir(meta, b.schema, values);
      for (let k = 0; k < nFiles; k++) {
        const split = nFiles > 1 ? { limit: perFile, offset: k * perFile } : undefined;
        const parquet = await exportPartition(ch, b, { exprs, parts, group, groups: groups.length, ...(split ? { split } : {}) });
        const uri = joinUri(dir, dataFileName(operationId, ++fileCount));
        const file = await writeAdoptedFile(io, meta, parquet, { uri, schema: b.schema, partition, sortOrderId: b.sortOrderId, nanFields: Object.keys(group.nans).map(Number).filter((id) => group.nans[id]! > 0), ...(nFiles === 1 ? { nanCounts: group.nans } : {}) }).catch((err: unknown) => {
          if (!(err instanceof DataSchemaMismatchError)) throw err;
          // This server encodes a column differently from what the spec requires (another ClickHouse version?).
          throw new DataSchemaMismatchError(err.column, `${err.message.replace(/^.*? at column \S+: /, '')}; ClickHouse's Parquet for table ${b.table} cannot be adopted as is: set encoder: arrow for it in the table registry`);
        });
        written.push(file);
      }
    }
  } catch (err) {
    await discard();
    throw err;
  }
  const rows = written.reduce((a, f) => a + f.record_count, 0);
  const expected = groups.reduce((a, g) => a + g.rows, 0);
  if (rows !== expected) {
    await discard();
    throw new Error(`clickhouse parquet write of ${b.table}: the batch counted ${expected} rows but the files hold ${rows}; the source changed during the read (a mutation or TTL); this attempt wrote nothing and will retry`);
  }
  return { files: written, rows };
}
