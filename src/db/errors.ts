// Errors thrown by the Postgres side: the table locks and their fence (src/db/table-lock.ts, src/db/fence.ts). All are
// retryable except PoolerModeError, which is a configuration problem.

/** Thrown by withTableLock when another offload/backfill (or maintenance) of the same table holds its lock. Retryable: the retry waits its turn. */
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
 * Thrown by the lock guard when the attempt no longer holds the table lock: its Postgres session ended, its
 * liveness check went unanswered, or a successor took the table over. Retryable: this attempt commits nothing.
 */
export class TableLockLostError extends Error {
  override readonly name: string = 'TableLockLostError';
  constructor(
    readonly table: string,
    readonly reason = 'its Postgres session ended',
    options?: { cause?: unknown },
  ) {
    super(`${table}: lost the table lock (${reason}); this attempt commits nothing and will retry`, options);
  }
}

/**
 * Thrown inside the commit transaction (checkFence) when the table's fencing epoch is no longer this attempt's:
 * another attempt took the table lock after this one lost it. The transaction rolls back, so nothing is committed.
 * Retryable: the retry starts from whatever the other attempt committed.
 */
export class TableFencedError extends TableLockLostError {
  override readonly name = 'TableFencedError';
  constructor(table: string, readonly held: string, readonly current: string | null) {
    super(table, `fenced out: this attempt holds fencing epoch ${held} but the table's is ${current ?? 'gone'}, so another attempt took the table over`);
  }
}

/**
 * Thrown at worker start (assertSessionPinning) and by the lock's liveness check when DATABASE_URL goes through a
 * connection pooler in transaction (or statement) mode: session advisory locks cannot work there. Not retryable.
 */
export class PoolerModeError extends Error {
  override readonly name = 'PoolerModeError';
  constructor(detail: string) {
    super(
      `postgres at DATABASE_URL: ${detail}; this is a connection pooler in transaction or statement mode (e.g. PgBouncer pool_mode=transaction), where the session advisory table locks would be taken on one server connection and released or checked on another. Point DATABASE_URL at Postgres directly or at a pool in session mode (PgBouncer pool_mode=session)`,
    );
  }
}
