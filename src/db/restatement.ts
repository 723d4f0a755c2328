import type pg from 'pg';
import type { TableIdent } from './watermarks';

/**
 * A rollup's restatement mark (migration 7): the ingestion key of the table it is derived from up to which late rows
 * have been examined. Late rows above it whose window is already in Iceberg are restated by the next cycle.
 */
export interface RestatementMark {
  sourceTable: string;
  mark: string[];
  lastSnapshotId: string | null;
  windowsRestated: string;
}

const KEY = 'catalog_name = $1 AND table_namespace = $2 AND table_name = $3';

export async function readRestatementMark(db: pg.Pool | pg.ClientBase, id: TableIdent): Promise<RestatementMark | null> {
  const res = await db.query<{ source_table: string; mark: string[]; last_snapshot_id: string | null; windows_restated: string }>(
    `SELECT source_table, mark, last_snapshot_id, windows_restated FROM coldtier_restatement_marks WHERE ${KEY}`,
    [id.catalog, id.namespace, id.table],
  );
  const r = res.rows[0];
  return r ? { sourceTable: r.source_table, mark: r.mark, lastSnapshotId: r.last_snapshot_id, windowsRestated: r.windows_restated } : null;
}

/**
 * Starts (or, when the rollup now derives from another table, restarts) the mark at `mark`: history before it is
 * not examined. Returns false when another attempt set it first.
 */
export async function startRestatementMark(db: pg.ClientBase, id: TableIdent, sourceTable: string, mark: string[], previous: RestatementMark | null): Promise<boolean> {
  if (!previous) {
    const res = await db.query(
      `INSERT INTO coldtier_restatement_marks (catalog_name, table_namespace, table_name, source_table, mark) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [id.catalog, id.namespace, id.table, sourceTable, JSON.stringify(mark)],
    );
    return res.rowCount === 1;
  }
  const res = await db.query(
    `UPDATE coldtier_restatement_marks SET source_table = $4, mark = $5, updated_at = now() WHERE ${KEY} AND source_table = $6 AND mark = $7::jsonb`,
    [id.catalog, id.namespace, id.table, sourceTable, JSON.stringify(mark), previous.sourceTable, JSON.stringify(previous.mark)],
  );
  return res.rowCount === 1;
}

/**
 * Moves the mark from `expected` to `next` inside the caller's transaction (the one that swaps the catalog pointer
 * when windows were restated). Returns false when it is no longer at `expected`: the caller must roll back.
 */
export async function advanceRestatementMark(db: pg.ClientBase, id: TableIdent, expected: string[], next: string[], commit?: { snapshotId: string; windows: number }): Promise<boolean> {
  const res = await db.query(
    `UPDATE coldtier_restatement_marks SET mark = $4, updated_at = now(),
       last_snapshot_id = COALESCE($6, last_snapshot_id), windows_restated = windows_restated + $7
     WHERE ${KEY} AND mark = $5::jsonb`,
    [id.catalog, id.namespace, id.table, JSON.stringify(next), JSON.stringify(expected), commit?.snapshotId ?? null, commit?.windows ?? 0],
  );
  return res.rowCount === 1;
}
