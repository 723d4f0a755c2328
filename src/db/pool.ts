import pg from 'pg';
import { describeConnectError } from '../errors';

// BIGINT (int8) as string so counts and ids never lose precision.
pg.types.setTypeParser(20, (v) => v);

/** Opens a pool and checks that Postgres answers, turning a connection failure into an actionable error. */
export async function openPool(databaseUrl: string, opts: { max?: number } = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: opts.max ?? 4, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its server must not crash the worker; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw describeConnectError('Postgres', 'DATABASE_URL', redactUrl(databaseUrl), err);
  }
  return pool;
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
