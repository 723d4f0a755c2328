import type pg from 'pg';
import { cleanupPrepared, prepareAppend, readTableMetadata, writeVersionHint, type DataFile, type FileIO, type PreparedCommit, type Schema, type TableMetadata } from '../iceberg';
import { loadMetadataLocation, swapMetadataLocation, type CatalogTableId } from '../iceberg/catalog/jdbc';
import { advanceWatermark } from '../db/watermarks';

export interface LoadedTable {
  metadata: TableMetadata;
  metadataUri: string;
}

/** Thrown by commitAppend when another writer advanced the watermark first. Retryable: the retry starts from the new watermark. */
export class WatermarkMovedError extends Error {
  override readonly name = 'WatermarkMovedError';
  constructor(readonly table: string) {
    super(`offload of ${table}: the watermark moved while this batch was being written (another worker committed it); this attempt wrote nothing and will retry from the new watermark`);
  }
}

export interface AppendRequest {
  id: CatalogTableId;
  files: DataFile[];
  schema?: Schema;
  summary: Record<string, string>;
  watermark: { columns: string[]; from: string[] | null; to: string[]; ts: Date; offloadId: string; rows: number };
}

const MAX_CONFLICT_RETRIES = 10;

/**
 * Commits an append and advances the watermark in ONE Postgres transaction: the catalog compare-and-swap and the
 * watermark update succeed or fail together, so the cold tier never holds rows the watermark does not cover and
 * never misses rows it does. On a catalog conflict (e.g. compaction committed first) it reloads the table and
 * re-applies the same data files on top.
 */
export async function commitAppend(pool: pg.Pool, io: FileIO, table: LoadedTable, req: AppendRequest): Promise<{ table: LoadedTable; prepared: PreparedCommit }> {
  let current = table;
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const prepared = await prepareAppend(io, current, req.files, { summary: req.summary, ...(req.schema ? { schema: req.schema } : {}) });
    const client = await pool.connect();
    let outcome: 'committed' | 'conflict' | 'watermark-moved';
    try {
      await client.query('BEGIN');
      try {
        // Serialise committers of one table so a loser fails fast instead of deadlocking on row locks.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${req.id.catalog}.${req.id.namespace}.${req.id.table}`]);
        const moved = !(await advanceWatermark(client, req.id, req.watermark.from, {
          columns: req.watermark.columns,
          values: req.watermark.to,
          ts: req.watermark.ts,
          offloadId: req.watermark.offloadId,
          snapshotId: prepared.snapshotId.toString(),
          rows: req.watermark.rows,
        }));
        const swapped = !moved && (await swapMetadataLocation(client, req.id, current.metadataUri, prepared.metadataUri));
        outcome = moved ? 'watermark-moved' : swapped ? 'committed' : 'conflict';
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        await cleanupPrepared(io, prepared).catch(() => undefined);
        throw err;
      }
      if (outcome !== 'committed') {
        await client.query('ROLLBACK');
      } else {
        // If COMMIT itself fails the outcome is unknown: keep the files (the retry finds the snapshot if it landed;
        // otherwise the orphan sweep removes them) and let the error propagate.
        await client.query('COMMIT');
      }
    } finally {
      client.release();
    }
    if (outcome === 'committed') {
      await writeVersionHint(io, prepared.metadata, prepared.metadataUri).catch(() => undefined);
      return { table: { metadata: prepared.metadata, metadataUri: prepared.metadataUri }, prepared };
    }
    await cleanupPrepared(io, prepared);
    if (outcome === 'watermark-moved') {
      await Promise.all(req.files.map((f) => io.delete(f.file_path).catch(() => undefined)));
      throw new WatermarkMovedError(`${req.id.namespace}.${req.id.table}`);
    }
    const uri = await loadMetadataLocation(pool, req.id);
    if (!uri) throw new Error(`iceberg commit on ${req.id.namespace}.${req.id.table}: the table disappeared from catalog ${req.id.catalog} during the commit`);
    current = { metadata: await readTableMetadata(io, uri), metadataUri: uri };
  }
  throw new Error(`iceberg commit conflict on ${req.id.namespace}.${req.id.table}: lost the compare-and-swap ${MAX_CONFLICT_RETRIES} times; will retry`);
}
