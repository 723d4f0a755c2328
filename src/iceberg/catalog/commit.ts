import { createHash } from 'node:crypto';
import type pg from 'pg';
import { CommitConflictError, CommitStateUnknownError, TableNotFoundError } from '../errors';
import type { FileIO } from '../io/file-io';
import { afterCommit } from '../table/after-commit';
import { readTableMetadata } from '../table/metadata-io';
import { cleanupPrepared, type PreparedCommit } from '../transaction/append';
import { loadMetadataLocation, swapMetadataLocation, type CatalogTableId } from './jdbc';
import type { LoadedTable } from './tables';

const MAX_CONFLICT_RETRIES = 10;
/** Lost swaps tolerated before the metadata is built under the commit lock. */
const OPTIMISTIC_ATTEMPTS = 2;

/** The commit transaction as the caller's hook sees it, right before the compare-and-swap. */
export interface CommitTransaction {
  /** The transaction's connection: what the hook runs here commits or rolls back with the swap. */
  readonly db: pg.ClientBase;
  /** The metadata this commit is built on (the catalog's current version, unless another writer swaps first). */
  readonly base: LoadedTable;
  /** The new metadata, written but not yet the catalog's. */
  readonly prepared: PreparedCommit;
}

export interface CasCommitOptions {
  /** Builds the new metadata on top of `base` (again after each lost compare-and-swap). */
  prepare: (base: LoadedTable) => Promise<PreparedCommit>;
  /**
   * Runs inside the commit transaction, after the table's commit lock, right before the swap: the caller's own checks
   * and writes that must commit with the swap or not at all (the offload checks its fence and advances its watermark
   * here). Return false to abandon the commit; throw to fail it. Either way the transaction rolls back and the
   * prepared metadata files are deleted.
   */
  beforeSwap?: (tx: CommitTransaction) => Promise<boolean | void>;
}

export interface Committed {
  table: LoadedTable;
  prepared: PreparedCommit;
}

/** A 64-bit advisory lock key per table for the commit transaction (hashtext's 32 bits collide across many tables). */
function commitLockKey(id: CatalogTableId): string {
  return createHash('sha256').update(`iceberg.commit:${id.catalog}.${id.namespace}.${id.table}`).digest().readBigInt64BE(0).toString();
}

/**
 * The one commit loop, as iceberg-rust's catalog has it. The new metadata is built on the version last read, then one
 * Postgres transaction takes the table's commit lock, runs the caller's beforeSwap and swaps the catalog pointer. A
 * lost swap reloads and retries; after a few losses (a long rewrite racing a stream of small appends) the metadata is
 * built while holding the lock, so the retry cannot lose to another coldtier writer and a rewrite is never starved.
 * Returns null when beforeSwap abandoned the commit. Every error means nothing was committed, except
 * CommitStateUnknownError (the COMMIT itself failed).
 */
export async function casCommit(pool: pg.Pool, io: FileIO, id: CatalogTableId, table: LoadedTable, o: CasCommitOptions): Promise<Committed | null> {
  const name = `${id.namespace}.${id.table}`;
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
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [commitLockKey(id)]);
        if (!prepared) {
          const uri = await loadMetadataLocation(client, id);
          if (!uri) throw new TableNotFoundError(name, id.catalog, 'at commit time');
          if (uri !== current.metadataUri) current = { metadata: await readTableMetadata(io, uri), metadataUri: uri };
          prepared = await o.prepare(current);
        }
        const go = (await o.beforeSwap?.({ db: client, base: current, prepared })) !== false;
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
        // otherwise the orphan sweep removes them).
        await client.query('COMMIT').catch((err: unknown) => {
          throw new CommitStateUnknownError(name, { cause: err });
        });
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
    if (!uri) throw new TableNotFoundError(name, id.catalog, 'after a lost compare-and-swap');
    current = { metadata: await readTableMetadata(io, uri), metadataUri: uri };
  }
  throw new CommitConflictError(name, MAX_CONFLICT_RETRIES);
}
