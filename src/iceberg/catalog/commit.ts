import type pg from 'pg';
import type { FileIO } from '../io/file-io';
import { afterCommit } from '../table/after-commit';
import { readTableMetadata } from '../table/metadata-io';
import { cleanupPrepared, type PreparedCommit } from '../transaction/append';
import { loadMetadataLocation, swapMetadataLocation, type CatalogTableId } from './jdbc';
import type { LoadedTable } from './tables';

const MAX_CONFLICT_RETRIES = 10;
/** Lost swaps tolerated before the metadata is built under the commit lock. */
const OPTIMISTIC_ATTEMPTS = 2;

export interface CasCommitOptions {
  /** Builds the new metadata on top of `base` (again after each lost compare-and-swap). */
  prepare: (base: LoadedTable) => Promise<PreparedCommit>;
  /** Runs inside the commit transaction before the swap; return false to abandon the commit (it rolls back). */
  inTransaction?: (client: pg.PoolClient, prepared: PreparedCommit) => Promise<boolean>;
}

/**
 * The one commit loop. The new metadata is built on the version last read, then one Postgres transaction takes the
 * table's commit lock, runs the caller's step (the watermark advance) and swaps the catalog pointer. A lost swap
 * reloads and retries; after a few losses (a long rewrite racing a stream of small appends) the metadata is built
 * while holding the lock, so the retry cannot lose to another coldtier writer and a rewrite is never starved.
 * Returns null when the caller's step abandoned the commit (its files are already cleaned up).
 */
export async function casCommit(pool: pg.Pool, io: FileIO, id: CatalogTableId, table: LoadedTable, o: CasCommitOptions): Promise<{ table: LoadedTable; prepared: PreparedCommit } | null> {
  let current = table;
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const underLock = attempt >= OPTIMISTIC_ATTEMPTS;
    let prepared: PreparedCommit | undefined = underLock ? undefined : await o.prepare(current);
    const client = await pool.connect();
    let outcome: 'committed' | 'conflict' | 'abandoned';
    try {
      await client.query('BEGIN');
      try {
        // A waiter gives up (and its activity retries) rather than hang behind a stuck committer.
        await client.query(`SET LOCAL lock_timeout = '120s'`);
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${id.catalog}.${id.namespace}.${id.table}`]);
        if (!prepared) {
          const uri = await loadMetadataLocation(client, id);
          if (!uri) throw new Error(`iceberg commit on ${id.namespace}.${id.table}: the table disappeared from catalog ${id.catalog}`);
          if (uri !== current.metadataUri) current = { metadata: await readTableMetadata(io, uri), metadataUri: uri };
          prepared = await o.prepare(current);
        }
        const go = o.inTransaction ? await o.inTransaction(client, prepared) : true;
        const swapped = go && (await swapMetadataLocation(client, id, current.metadataUri, prepared.metadataUri));
        outcome = !go ? 'abandoned' : swapped ? 'committed' : 'conflict';
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (prepared) await cleanupPrepared(io, prepared).catch(() => undefined);
        throw err;
      }
      if (outcome !== 'committed') {
        await client.query('ROLLBACK');
      } else {
        // If COMMIT itself fails the outcome is unknown: keep the files (a retry finds the snapshot if it landed;
        // otherwise the orphan sweep removes them) and let the error propagate.
        await client.query('COMMIT');
      }
    } finally {
      client.release();
    }
    if (outcome === 'committed') {
      await afterCommit(io, current.metadata, prepared);
      return { table: { metadata: prepared.metadata, metadataUri: prepared.metadataUri }, prepared };
    }
    await cleanupPrepared(io, prepared);
    if (outcome === 'abandoned') return null;
    const uri = await loadMetadataLocation(pool, id);
    if (!uri) throw new Error(`iceberg commit on ${id.namespace}.${id.table}: the table disappeared from catalog ${id.catalog} during the commit`);
    current = { metadata: await readTableMetadata(io, uri), metadataUri: uri };
  }
  throw new Error(`iceberg commit conflict on ${id.namespace}.${id.table}: lost the compare-and-swap ${MAX_CONFLICT_RETRIES} times to another writer; will retry`);
}

