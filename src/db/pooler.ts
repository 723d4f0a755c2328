import pg from 'pg';
import { PoolerModeError } from './errors';

/**
 * Refuses a DATABASE_URL that goes through a connection pooler in transaction or statement mode (PgBouncer
 * pool_mode=transaction, and poolers like it). There a client connection is not a Postgres session: each
 * transaction runs on whichever server connection is free. A session advisory lock is then taken on one server
 * connection and stays with it after the client moves on: the lock leaks (the table reports busy until that server
 * connection closes), another client handed that server connection "takes" the same lock again (advisory locks are
 * re-entrant within a session), and an unlock or check runs on the wrong session. The fencing epoch would still keep
 * commits exactly-once, but mutual exclusion and the lock's release would not work, so the worker refuses to start.
 *
 * The probe: client A asks for its server pid, then client B opens a transaction and asks for its own. A real
 * session (direct, or a pool in session mode) pins A's server connection, so B gets another one. A transaction-mode
 * pooler has returned A's server connection to the pool, and hands B the most recently used idle one (PgBouncer's
 * default, server_round_robin=0), i.e. A's. While B's transaction holds it, A's next statement must run elsewhere.
 */
export async function assertSessionPinning(databaseUrl: string): Promise<void> {
  const a = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  const b = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  const pid = async (c: pg.Client) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  try {
    await a.connect();
    await b.connect();
    const a1 = await pid(a);
    await b.query('BEGIN');
    const b1 = await pid(b);
    if (b1 === a1) throw new PoolerModeError(`two client connections were served by the same server process (${a1})`);
    // A pool of one server connection would make this wait for B's transaction: a timeout is an answer too.
    let timer: NodeJS.Timeout | undefined;
    const a2 = await Promise.race([pid(a), new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), 5_000)))]);
    clearTimeout(timer);
    if (a2 === 'timeout') throw new PoolerModeError('a client connection had to wait for another client\'s transaction to run a statement');
    if (a2 !== a1) throw new PoolerModeError(`one client connection was served by server process ${a1}, then ${a2}`);
    await b.query('ROLLBACK');
  } finally {
    await Promise.allSettled([a.end(), b.end()]);
  }
}
