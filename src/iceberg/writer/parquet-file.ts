// writeAdoptedFile: a Parquet file encoded elsewhere (ClickHouse's FORMAT Parquet) → an Iceberg data file on the
// table's storage + its manifest metadata. The file is checked and given field ids (parquet/footer.ts); its metrics
// come from the footer alone, so the rows never pass through this process.

import { adoptParquet, parquetBounds } from '../parquet/footer';
import type { FileIO } from '../io/file-io';
import type { DataFile } from '../spec/manifest';
import { isPrimitive, type Schema } from '../spec/schema';
import { defaultSpec, type TableMetadata } from '../spec/table-metadata';
import type { IcebergValue } from '../spec/values';
import { annotateParquet } from '../parquet/annotate';
import { parquetEncoding, recordedSortOrder } from './data-writer';
import { footerMetrics, setBounds, type ColumnMetrics } from './metrics';

export interface AdoptedFileOptions {
  /** Where to write it (under the table's data location; see partitionDir/dataFileName). */
  uri: string;
  /** The schema the file's columns follow (the table's current one, or the evolved one for this append). */
  schema: Schema;
  /** Partition values keyed by partition field name (internal representation). */
  partition: Record<string, IcebergValue | null>;
  /** Sort order the rows follow; recorded where the table allows it (recordedSortOrder). @default 0 (unsorted) */
  sortOrderId?: number;
  /** NaN counts of float/double columns by field id, when the caller counted them. @default unknown (left out) */
  nanCounts?: Record<number, number>;
  /**
   * Float/double fields that may hold NaN in this file: their Parquet min/max statistics are removed (table property
   * coldtier.write.parquet.nan-float-statistics). @default those with a NaN count above 0, or every float/double
   * field when nanCounts is unknown
   */
  nanFields?: number[];
}

/** Adopts `parquet`, writes it to `o.uri` and returns its DataFile for prepareAppend. */
export async function writeAdoptedFile(io: FileIO, meta: TableMetadata, parquet: Uint8Array, o: AdoptedFileOptions): Promise<DataFile> {
  const enc = parquetEncoding(meta, o.schema);
  const adopted = adoptParquet(parquet, o.schema, o.uri);
  const floats = o.schema.fields.filter((f) => f.type === 'float' || f.type === 'double').map((f) => f.id);
  const nanFields = o.nanFields ?? (o.nanCounts ? floats.filter((id) => (o.nanCounts![id] ?? 0) > 0) : floats);
  const bytes = annotateParquet(adopted, o.schema, { uuidStatistics: enc.uuidStatistics, noMinMax: enc.nanStatistics ? [] : nanFields });
  await io.write(o.uri, bytes);
  const footer = footerMetrics(bytes);
  // Bounds from the statistics as ClickHouse wrote them (before any were removed from the file).
  const stats = parquetBounds(adopted, o.schema);
  const bounds: Pick<ColumnMetrics, 'lower_bounds' | 'upper_bounds'> = { lower_bounds: {}, upper_bounds: {} };
  for (const f of o.schema.fields) {
    const min = stats.min[f.id];
    const max = stats.max[f.id];
    if (isPrimitive(f.type) && min !== undefined && max !== undefined && (f.type !== 'uuid' || enc.uuidStatistics)) setBounds(bounds, f.id, f.type, min, max);
  }
  return {
    content: 0,
    file_path: o.uri,
    file_format: 'PARQUET',
    spec_id: defaultSpec(meta)['spec-id'],
    partition: o.partition,
    record_count: footer.row_count,
    file_size_in_bytes: bytes.byteLength,
    column_sizes: footer.column_sizes,
    value_counts: footer.value_counts,
    null_value_counts: { ...footer.null_value_counts, ...stats.nulls },
    ...(o.nanCounts ? { nan_value_counts: o.nanCounts } : {}),
    lower_bounds: bounds.lower_bounds,
    upper_bounds: bounds.upper_bounds,
    split_offsets: footer.split_offsets,
    sort_order_id: recordedSortOrder(meta, o.sortOrderId ?? 0),
  };
}
