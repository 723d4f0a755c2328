import pg from 'pg';
import { TableBusyError, TableLockLostError } from './errors';
import type { TableIdent } from './watermarks';

export interface LockGuard {
  /** Throws TableLockLostError if the lock session has ended: call it right before committing. */
  assertHeld(): void;
}

/**
 * Per-table mutual exclusion for the whole activity: a Postgres session advisory lock on a dedicated connection.
 * If the worker dies, its connection closes and Postgres releases the lock, so a crash never leaves a table locked;
 * and an attempt whose lock session ended stops before committing, so whoever holds the lock can trust that no
 * earlier attempt is still about to commit (which is what makes cleaning up a dead attempt's files safe).
 */
export async function withTableLock<T>(databaseUrl: string, id: TableIdent, fn: (guard: LockGuard) => Promise<T>, purpose: 'offload' | 'maintenance' = 'offload'): Promise<T> {
  // Its own connection, outside the pool: holding pooled connections for whole activities could starve commits.
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  let lost = false;
  client.on('error', () => (lost = true));
  client.on('end', () => (lost = true));
  await client.connect();
  const table = `${id.namespace}.${id.table}`;
  try {
    const res = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`coldtier.${purpose}:${id.catalog}.${table}`]);
    if (res.rows[0]?.ok !== true) throw new TableBusyError(table, purpose);
    return await fn({
      assertHeld: () => {
        if (lost) throw new TableLockLostError(table);
      },
    });
  } finally {
    // Closing the session releases the lock.
    await client.end().catch(() => undefined);
  }
}
