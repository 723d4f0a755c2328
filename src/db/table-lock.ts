import pg from 'pg';
import { PoolerModeError, TableBusyError, TableLockLostError } from './errors';
import { checkFence, readFence, takeEpoch, type FenceId, type LockHolder, type LockPurpose } from './fence';
import { lockKey, pgLocksMatch } from './lock-key';
import type { TableIdent } from './watermarks';

export { TableBusyError, TableLockLostError } from './errors';
export type { LockPurpose } from './fence';

export interface LockGuard {
  /** `namespace.table`, for messages. */
  readonly table: string;
  /** Aborted (with a TableLockLostError or PoolerModeError as its reason) as soon as the attempt learns it lost the lock. */
  readonly signal: AbortSignal;
  /** Throws the reason if the lock is known to be lost. */
  assertHeld(): void;
  /** Inside the commit transaction: throws unless this attempt still owns the table (see checkFence). */
  checkFence(tx: pg.ClientBase): Promise<void>;
  /** Asks the lock session now (not at the next periodic check) whether it still holds the lock; aborts `signal` if not. */
  checkNow(): Promise<void>;
}

export interface TableLockOptions {
  /** @default 'offload' */
  purpose?: LockPurpose;
  /**
   * Who holds the lock: the activity and its attempt, so a later attempt of the same activity may take the lock over
   * from a timed-out earlier one. @default a unique id (no takeover)
   */
  holder?: LockHolder;
  /**
   * Ask the lock session every few seconds whether it still holds the lock. Only the silent-partition fault test turns
   * it off, to let a partitioned worker reach its commit (where the fence must refuse it). @default true
   */
  periodicCheck?: boolean;
  /** Told when this attempt took the lock over from a timed-out earlier attempt of the same activity (for its log). */
  onTakeover?: (e: { table: string; attempt: number; earlierAttempt: number | null }) => void;
}

/** How often the lock session is asked whether it still holds the lock, and how long an answer may take. */
const CHECK_EVERY_MS = 5_000;
const CHECK_TIMEOUT_MS = 10_000;
/** How long a successor waits for a timed-out predecessor's lock session to go after terminating it. */
const TAKEOVER_WAIT_MS = 30_000;

/**
 * Per-table mutual exclusion for the whole activity: a Postgres session advisory lock (64-bit key) on a dedicated
 * connection, plus a fencing epoch taken with it (src/db/fence.ts) that every commit re-checks in its transaction.
 * If the worker dies, its connection closes and Postgres releases the lock, so a crash never leaves a table locked.
 * The lock connection is kept live: TCP keepalive on both ends (so a vanished worker's lock is released within about
 * a minute, not the kernel's two hours) and a check every few seconds; an attempt whose check fails or goes
 * unanswered learns it through `guard.signal` and stops. Whatever it does before it notices, the fence refuses.
 */
export async function withTableLock<T>(databaseUrl: string, id: TableIdent, fn: (guard: LockGuard) => Promise<T>, options: LockPurpose | TableLockOptions = {}): Promise<T> {
  const o = typeof options === 'string' ? { purpose: options } : options;
  const fence: FenceId = { ...id, purpose: o.purpose ?? 'offload' };
  const holder = o.holder ?? { id: `direct/${process.pid}/${Date.now()}/${Math.random()}`, attempt: 1 };
  const table = `${id.namespace}.${id.table}`;
  const key = lockKey(`coldtier.${fence.purpose}:${id.catalog}.${table}`);
  // Its own connection, outside the pool: holding pooled connections for whole activities could starve commits.
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: `coldtier lock ${fence.purpose} ${table}`.slice(0, 63),
  });
  const controller = new AbortController();
  const lose = (reason: Error) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  client.on('error', (err) => lose(new TableLockLostError(table, `its Postgres session failed: ${err.message}`, { cause: err })));
  client.on('end', () => lose(new TableLockLostError(table)));
  await client.connect();
  let timer: NodeJS.Timeout | undefined;
  try {
    // The server probes the (otherwise idle) lock connection too, and ends the session of a worker that vanished.
    await client.query(`SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3`);
    const pid = await acquire(client, fence, key, holder, table, o.onTakeover);
    const epoch = await takeEpoch(client, fence, holder);
    let checking = false;
    timer = setInterval(() => {
      if (checking || controller.signal.aborted || o.periodicCheck === false) return;
      checking = true;
      void checkLive(client, fence, key, pid, epoch, table)
        .then((lost) => lost && lose(lost))
        .finally(() => (checking = false));
    }, CHECK_EVERY_MS);
    timer.unref();
    return await fn({
      table,
      signal: controller.signal,
      assertHeld: () => {
        if (controller.signal.aborted) throw controller.signal.reason;
      },
      checkFence: async (tx) => {
        if (controller.signal.aborted) throw controller.signal.reason;
        await checkFence(tx, fence, epoch, key);
      },
      checkNow: async () => {
        if (controller.signal.aborted) return;
        const lost = await checkLive(client, fence, key, pid, epoch, table);
        if (lost) lose(lost);
      },
    });
  } finally {
    clearInterval(timer);
    await close(client, controller.signal.aborted);
  }
}

/** Takes the lock, or takes it over from an earlier attempt of this very activity that Temporal gave up on. Returns the session's pid. */
async function acquire(client: pg.Client, fence: FenceId, key: string, holder: LockHolder, table: string, onTakeover: TableLockOptions['onTakeover']): Promise<number> {
  const tryLock = async () => (await client.query<{ ok: boolean; pid: number }>('SELECT pg_try_advisory_lock($1::bigint) AS ok, pg_backend_pid() AS pid', [key])).rows[0]!;
  let r = await tryLock();
  if (r.ok) return r.pid;
  const last = await readFence(client, fence);
  // Temporal starts attempt n+1 only after it gave up on attempt n (heartbeat or start-to-close timeout): an earlier
  // attempt still holding the lock is a zombie (frozen, partitioned from Temporal), and waiting for it would spend
  // this attempt's retries on TableBusyError. End its lock session; the epoch bump below fences out its commit.
  if (last?.holder === holder.id && (last.holderAttempt ?? 0) < holder.attempt && last.holderPid) {
    await client.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE ${pgLocksMatch('$1')} AND pid = $2 AND granted`, [key, last.holderPid]);
    onTakeover?.({ table, attempt: holder.attempt, earlierAttempt: last.holderAttempt });
    for (const deadline = Date.now() + TAKEOVER_WAIT_MS; !r.ok && Date.now() < deadline; ) {
      await new Promise((res) => setTimeout(res, 100));
      r = await tryLock();
    }
    if (r.ok) return r.pid;
  }
  throw new TableBusyError(table, fence.purpose);
}

/** One liveness check of the lock session; returns why the lock is lost, or null while it is held. */
async function checkLive(client: pg.Client, fence: FenceId, key: string, pid: number, epoch: string, table: string): Promise<Error | null> {
  let timeout: NodeJS.Timeout | undefined;
  const unanswered = new Promise<'timeout'>((res) => (timeout = setTimeout(() => res('timeout'), CHECK_TIMEOUT_MS)));
  try {
    const res = await Promise.race([
      client.query<{ pid: number; held: boolean; epoch: string | null }>(
        `SELECT pg_backend_pid() AS pid, EXISTS (SELECT 1 FROM pg_locks WHERE ${pgLocksMatch('$1')} AND pid = pg_backend_pid() AND granted) AS held,
           (SELECT epoch::text FROM coldtier_table_fences WHERE catalog_name = $2 AND table_namespace = $3 AND table_name = $4 AND purpose = $5) AS epoch`,
        [key, fence.catalog, fence.namespace, fence.table, fence.purpose],
      ),
      unanswered,
    ]);
    if (res === 'timeout') return new TableLockLostError(table, `its Postgres session did not answer a liveness check in ${CHECK_TIMEOUT_MS / 1000} s (network partition?)`);
    const row = res.rows[0]!;
    if (row.pid !== pid) return new PoolerModeError(`the table lock's session moved from server process ${pid} to ${row.pid} between two statements`);
    if (!row.held) return new TableLockLostError(table, 'its Postgres session no longer holds the advisory lock');
    if (row.epoch !== epoch) return new TableLockLostError(table, `another attempt took the table over (fencing epoch ${epoch} → ${row.epoch})`);
    return null;
  } catch (err) {
    return new TableLockLostError(table, `its liveness check failed: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timeout);
  }
}

/** Ends the lock session (which releases the lock); a session whose network is gone is torn down instead of waited for. */
async function close(client: pg.Client, lost: boolean): Promise<void> {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  if (lost) {
    stream?.destroy();
    return;
  }
  let timeout: NodeJS.Timeout | undefined;
  await Promise.race([client.end().catch(() => undefined), new Promise<void>((res) => (timeout = setTimeout(res, 5_000)))]);
  clearTimeout(timeout);
  stream?.destroy();
}
