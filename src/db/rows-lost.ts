import type pg from 'pg';
import type { TableIdent } from './watermarks';

export interface RowsLostRecord {
  from: string[];
  to: string[];
  message: string;
  detectedAt: Date;
}

/** Records a gap the source's TTL made (idempotent: the same gap found again keeps its first detection time). */
export async function recordRowsLost(db: pg.Pool, id: TableIdent, lost: { from: string[]; to: string[]; message: string }): Promise<void> {
  await db.query(
    `INSERT INTO coldtier_rows_lost (catalog_name, table_namespace, table_name, from_key, to_key, message) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (catalog_name, table_namespace, table_name, from_key) DO UPDATE SET to_key = EXCLUDED.to_key, message = EXCLUDED.message`,
    [id.catalog, id.namespace, id.table, JSON.stringify(lost.from), JSON.stringify(lost.to), lost.message],
  );
}

/** The gaps of a table detected at or after `since`, oldest first. */
export async function rowsLostSince(db: pg.Pool, id: TableIdent, since: Date): Promise<RowsLostRecord[]> {
  const res = await db.query<{ from_key: string[]; to_key: string[]; message: string; detected_at: Date }>(
    `SELECT from_key, to_key, message, detected_at FROM coldtier_rows_lost
     WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND detected_at >= $4 ORDER BY detected_at`,
    [id.catalog, id.namespace, id.table, since],
  );
  return res.rows.map((r) => ({ from: r.from_key, to: r.to_key, message: r.message, detectedAt: r.detected_at }));
}
