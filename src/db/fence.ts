import type pg from 'pg';
import { TableFencedError, TableLockLostError } from './errors';
import { pgLocksMatch } from './lock-key';
import type { TableIdent } from './watermarks';

/**
 * Fencing tokens for the table locks. Every time an attempt takes a table lock it bumps the table's epoch
 * (coldtier_table_fences, one row per table and lock purpose) on the lock connection, and every commit transaction
 * re-checks, under the row's lock, that the epoch is still its own and that its lock session still holds the
 * advisory lock. The advisory lock alone is not enough: after a silent network partition Postgres may end the lock
 * session and let a second attempt in while the first one still believes it holds the lock, and its commit runs on a
 * different (pooled) connection that knows nothing about the lock. The epoch makes the second acquisition and the
 * first attempt's commit serialize on one row: whichever comes second sees the other.
 */
export type LockPurpose = 'offload' | 'maintenance';

export interface FenceId extends TableIdent {
  purpose: LockPurpose;
}

/** Who holds (or last held) the lock: the Temporal activity (workflow/run/activity id) and its attempt number. */
export interface LockHolder {
  id: string;
  attempt: number;
}

export interface FenceRow {
  epoch: string;
  holder: string | null;
  holderAttempt: number | null;
  holderPid: number | null;
}

const KEY = 'catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND purpose = $4';
const keyParams = (f: FenceId) => [f.catalog, f.namespace, f.table, f.purpose];

export async function readFence(db: pg.ClientBase | pg.Pool, f: FenceId): Promise<FenceRow | null> {
  const res = await db.query<{ epoch: string; holder: string | null; holder_attempt: number | null; holder_pid: number | null }>(
    `SELECT epoch::text AS epoch, holder, holder_attempt, holder_pid FROM coldtier_table_fences WHERE ${KEY}`,
    keyParams(f),
  );
  const r = res.rows[0];
  return r ? { epoch: r.epoch, holder: r.holder, holderAttempt: r.holder_attempt, holderPid: r.holder_pid } : null;
}

/**
 * Bumps the epoch for a new lock holder and returns it. Run on the lock connection right after the advisory lock
 * was granted. If a fenced-out attempt's commit transaction holds the row, this waits for it to end, so that commit
 * is either visible to the new holder's first read or rolled back.
 */
export async function takeEpoch(lockClient: pg.ClientBase, f: FenceId, holder: LockHolder): Promise<string> {
  const res = await lockClient.query<{ epoch: string }>(
    `INSERT INTO coldtier_table_fences (catalog_name, table_namespace, table_name, purpose, epoch, holder, holder_attempt, holder_pid, acquired_at)
     VALUES ($1, $2, $3, $4, 1, $5, $6, pg_backend_pid(), now())
     ON CONFLICT (catalog_name, table_namespace, table_name, purpose) DO UPDATE
       SET epoch = coldtier_table_fences.epoch + 1, holder = $5, holder_attempt = $6, holder_pid = pg_backend_pid(), acquired_at = now()
     RETURNING epoch::text AS epoch`,
    [...keyParams(f), holder.id, holder.attempt],
  );
  return res.rows[0]!.epoch;
}

/**
 * Inside a commit transaction: succeeds only if `epoch` is still the table's and the session that took it still
 * holds the advisory lock `key`; it then keeps the row locked until the transaction ends, so no other attempt can
 * take the table over between this check and the commit. Otherwise throws (the caller rolls back).
 */
export async function checkFence(tx: pg.ClientBase, f: FenceId, epoch: string, key: string): Promise<void> {
  const res = await tx.query(
    `UPDATE coldtier_table_fences SET commits = commits + 1, last_commit_at = now()
     WHERE ${KEY} AND epoch = $5::bigint
       AND EXISTS (SELECT 1 FROM pg_locks WHERE ${pgLocksMatch('$6')} AND pid = coldtier_table_fences.holder_pid AND granted)`,
    [...keyParams(f), epoch, key],
  );
  if (res.rowCount === 1) return;
  const now = await readFence(tx, f);
  const table = `${f.namespace}.${f.table}`;
  if (now?.epoch === epoch) throw new TableLockLostError(table, 'its Postgres lock session had ended when it came to commit');
  throw new TableFencedError(table, epoch, now?.epoch ?? null);
}
