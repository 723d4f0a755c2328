import type pg from 'pg';

export interface TableIdent {
  catalog: string;
  namespace: string;
  table: string;
}

export interface Watermark {
  columns: string[];
  /** One value per column, as ClickHouse prints it (exact; never a JS number). */
  values: string[];
  /** The first watermark column as a timestamp (for lag). */
  ts: Date;
  lastOffloadId: string | null;
  lastSnapshotId: string | null;
  rowsOffloaded: string;
  updatedAt: Date;
  /** The highest key any commit has covered; only commits move it. */
  committedTo: string[] | null;
}

interface Row {
  watermark_columns: string[];
  watermark_values: string[];
  watermark_ts: Date;
  last_offload_id: string | null;
  last_snapshot_id: string | null;
  rows_offloaded: string;
  updated_at: Date;
  committed_to: string[] | null;
}

const toWatermark = (r: Row): Watermark => ({
  columns: r.watermark_columns,
  values: r.watermark_values,
  ts: r.watermark_ts,
  lastOffloadId: r.last_offload_id,
  lastSnapshotId: r.last_snapshot_id,
  rowsOffloaded: r.rows_offloaded,
  updatedAt: r.updated_at,
  committedTo: r.committed_to,
});

const KEY = 'catalog_name = $1 AND table_namespace = $2 AND table_name = $3';

export async function readWatermark(db: pg.Pool | pg.PoolClient, id: TableIdent, opts: { forUpdate?: boolean } = {}): Promise<Watermark | null> {
  const res = await db.query<Row>(`SELECT * FROM coldtier_watermarks WHERE ${KEY}${opts.forUpdate ? ' FOR UPDATE' : ''}`, [id.catalog, id.namespace, id.table]);
  const row = res.rows[0];
  return row ? toWatermark(row) : null;
}

export async function listWatermarks(db: pg.Pool, catalog: string): Promise<Map<string, Watermark>> {
  const res = await db.query<Row & { table_namespace: string; table_name: string }>('SELECT * FROM coldtier_watermarks WHERE catalog_name = $1', [catalog]);
  return new Map(res.rows.map((r) => [`${r.table_namespace}.${r.table_name}`, toWatermark(r)]));
}

/**
 * Advances the watermark inside the caller's transaction, but only from `expected` (null = no watermark yet).
 * Returns false when another writer moved it first: the caller must roll back.
 */
export async function advanceWatermark(
  client: pg.ClientBase,
  id: TableIdent,
  expected: string[] | null,
  next: { columns: string[]; values: string[]; ts: Date; offloadId: string; snapshotId: string; rows: number },
): Promise<boolean> {
  const params = [id.catalog, id.namespace, id.table, JSON.stringify(next.columns), JSON.stringify(next.values), next.ts, next.offloadId, next.snapshotId, next.rows];
  if (expected === null) {
    const res = await client.query(
      `INSERT INTO coldtier_watermarks (catalog_name, table_namespace, table_name, watermark_columns, watermark_values, watermark_ts, last_offload_id, last_snapshot_id, rows_offloaded, committed_to)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $5) ON CONFLICT DO NOTHING`,
      params,
    );
    return res.rowCount === 1;
  }
  const res = await client.query(
    `UPDATE coldtier_watermarks SET watermark_columns = $4, watermark_values = $5, watermark_ts = $6, last_offload_id = $7,
       last_snapshot_id = $8, rows_offloaded = rows_offloaded + $9, committed_to = $5, updated_at = now()
     WHERE ${KEY} AND watermark_values = $10::jsonb`,
    [...params, JSON.stringify(expected)],
  );
  return res.rowCount === 1;
}

/** Operator action: set the watermark by hand (repair, backfill, fault tests). */
export async function setWatermark(db: pg.Pool, id: TableIdent, columns: string[], values: string[], ts: Date): Promise<void> {
  await db.query(
    `INSERT INTO coldtier_watermarks (catalog_name, table_namespace, table_name, watermark_columns, watermark_values, watermark_ts)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (catalog_name, table_namespace, table_name) DO UPDATE SET watermark_columns = $4, watermark_values = $5, watermark_ts = $6, updated_at = now()`,
    [id.catalog, id.namespace, id.table, JSON.stringify(columns), JSON.stringify(values), ts],
  );
}
