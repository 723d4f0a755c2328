import pg from 'pg';
import type { TableIdent } from './watermarks';

/** Thrown when another offload/backfill of the same table holds its lock. Retryable: the retry waits its turn. */
export class TableBusyError extends Error {
  override readonly name = 'TableBusyError';
  constructor(
    readonly table: string,
    readonly purpose: string = 'offload',
  ) {
    super(`${purpose} of ${table} is already running elsewhere (another workflow or worker holds the table lock); will retry when it is done`);
  }
}

/**
 * Per-table mutual exclusion for the whole activity: a Postgres session advisory lock on a dedicated connection.
 * If the worker dies, its connection closes and Postgres releases the lock, so a crash never leaves a table locked.
 * (Commits are also guarded by the watermark check, so the lock saves work; correctness does not depend on it.)
 */
export async function withTableLock<T>(databaseUrl: string, id: TableIdent, fn: () => Promise<T>, purpose: 'offload' | 'maintenance' = 'offload'): Promise<T> {
  // Its own connection, outside the pool: holding pooled connections for whole activities could starve commits.
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const res = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`coldtier.${purpose}:${id.catalog}.${id.namespace}.${id.table}`]);
    if (res.rows[0]?.ok !== true) throw new TableBusyError(`${id.namespace}.${id.table}`, purpose);
    return await fn();
  } finally {
    // Closing the session releases the lock.
    await client.end().catch(() => undefined);
  }
}
