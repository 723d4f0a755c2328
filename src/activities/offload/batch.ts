// One batch of an offload, (lo, hi] of the watermark key, read from ClickHouse and written as data files (nothing
// committed). Shared by the offload activity and the fan-out range writes, so both pick the encoder the same way.

import type { ClickHouse } from '../../clickhouse/client';
import { clickhouseEncodingUnsupported } from '../../clickhouse/parquet-export';
import { batchOrderBy, partitionOrderExpr } from '../../clickhouse/range';
import { ConfigError } from '../../config/errors';
import type { TableConfig } from '../../config/tables';
import { currentSchema, TABLE_PROPERTY_DEFAULTS, tableProperty, writeDataFiles, type DataFile, type FileIO, type Schema, type TableMetadata } from '../../iceberg';
import { writeWithClickHouse } from './clickhouse-write';

export interface BatchInput {
  cfg: TableConfig;
  /** `db`.`table` of the source. */
  src: string;
  /** SELECT list from icebergSchemaFromClickHouse, in schema field order. */
  select: string[];
  where: { sql: string; params: Record<string, string> };
  meta: TableMetadata;
  /** The schema to write with: the evolved one when this append adds columns. @default the table's current schema */
  schema?: Schema;
  /** Source columns that are LowCardinality strings (SourceSchema.lowCardinality). */
  lowCardinality?: readonly string[];
}

export interface BatchOutput {
  files: DataFile[];
  rows: number;
  /** Which encoder wrote the files ('clickhouse' or 'arrow'), and why not ClickHouse when it was Arrow. */
  encoder: 'clickhouse' | 'arrow';
  reason?: string;
}

/** Whether the Arrow path's files come out sorted by the table's sort order (see batchOrderBy). */
function sortedByOrder(cfg: TableConfig): boolean {
  return cfg.sortBy.length > 0 && cfg.partitionBy.every((p) => partitionOrderExpr(p.column, p.transform) !== null);
}

/** write.target-file-size-bytes, or Iceberg's default (128 MiB) when it is unset or not a positive number. */
function targetFileSize(meta: TableMetadata): number {
  const v = Number(tableProperty(meta, 'write.target-file-size-bytes'));
  return Number.isFinite(v) && v > 0 ? v : Number(TABLE_PROPERTY_DEFAULTS['write.target-file-size-bytes']);
}

/** Rows per batch (and commit) when the registry sets none: what each encoder's memory allows. */
export const DEFAULT_BATCH_ROWS = { clickhouse: 2_000_000, arrow: 500_000 } as const;

export function batchRowsFor(cfg: TableConfig, encoder: 'clickhouse' | 'arrow'): number {
  return cfg.batchRows ?? DEFAULT_BATCH_ROWS[encoder];
}

/** The encoder `cfg` asks for, and for `auto` the reason ClickHouse cannot be used (undefined: it can). */
export function chooseEncoder(cfg: TableConfig, meta: TableMetadata, schema: Schema): { encoder: 'clickhouse' | 'arrow'; reason?: string } {
  if (cfg.encoder === 'arrow') return { encoder: 'arrow', reason: 'encoder: arrow in the table registry' };
  const unsupported = clickhouseEncodingUnsupported(meta, schema);
  if (!unsupported) return { encoder: 'clickhouse' };
  if (cfg.encoder === 'clickhouse') throw new ConfigError(`table ${cfg.name}: encoder: clickhouse is set but ClickHouse cannot write this table exactly as Iceberg requires (${unsupported}); set encoder: auto or arrow in the table registry`);
  return { encoder: 'arrow', reason: unsupported };
}

export async function writeBatch(ch: ClickHouse, io: FileIO, b: BatchInput): Promise<BatchOutput> {
  const schema = b.schema ?? currentSchema(b.meta);
  const { encoder, reason } = chooseEncoder(b.cfg, b.meta, schema);
  const target = targetFileSize(b.meta);
  // ClickHouse sorts each file by the sort order itself; the Arrow path relies on the batch query's ORDER BY, which
  // puts the partition first and so follows the sort order within a file only for transforms it can order by.
  const sorted = encoder === 'clickhouse' ? b.cfg.sortBy.length > 0 : sortedByOrder(b.cfg);
  const sortOrderId = sorted ? b.meta['default-sort-order-id'] : 0;
  if (encoder === 'clickhouse') {
    const out = await writeWithClickHouse(ch, io, b.meta, {
      table: b.cfg.name, src: b.src, select: b.select, where: b.where, sortBy: b.cfg.sortBy, uniqueKey: b.cfg.watermark,
      schema, targetFileSizeBytes: target, sortOrderId, ...(b.lowCardinality ? { lowCardinality: b.lowCardinality } : {}),
    }, b.cfg.writeConcurrency);
    return { ...out, encoder };
  }
  // The batch query orders rows by partition, then the table's sort order (see batchOrderBy).
  const rows = await ch.arrow(`SELECT ${b.select.join(', ')} FROM ${b.src} WHERE ${b.where.sql}${batchOrderBy(b.cfg)}`, b.where.params);
  const files = rows.numRows ? await writeDataFiles(io, b.meta, rows, { targetFileSizeBytes: target, schema, sortOrderId }) : [];
  return { files, rows: rows.numRows, encoder, ...(reason ? { reason } : {}) };
}
