// Errors thrown by the Postgres side: table locks.

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

/** Thrown before a commit when the table lock's session was lost (e.g. Postgres restarted). Retryable. */
export class TableLockLostError extends Error {
  override readonly name = 'TableLockLostError';
  constructor(readonly table: string) {
    super(`${table}: lost the table lock (its Postgres session ended); this attempt commits nothing and will retry`);
  }
}
