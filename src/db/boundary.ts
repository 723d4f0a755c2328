import type pg from 'pg';
import type { TableIdent } from './watermarks';

/**
 * Where a table's rows are, at one instant: Iceberg holds the rows with key ≤ `key` in the table whose committed
 * metadata is `metadataLocation`; ClickHouse holds the rest. Both are read by ONE statement, so they come from one
 * Postgres snapshot, and the offload commit moves both in one transaction: the pair is always consistent.
 */
export interface TierBoundary {
  /** `committed_to`: the highest key any commit covered (values as ClickHouse prints them); null = nothing committed. */
  key: string[] | null;
  /** `iceberg_tables.metadata_location`; null = the Iceberg table does not exist yet. */
  metadataLocation: string | null;
}

/**
 * The federation boundary of a table. It is `committed_to`, not `watermark_values`: an operator may move the
 * watermark by hand (forward to skip rows, which Iceberg then does not hold), while `committed_to` moves only with a
 * commit, so it says exactly what the Iceberg snapshot of the same transaction holds.
 */
export async function readBoundary(db: pg.Pool | pg.PoolClient, id: TableIdent): Promise<TierBoundary> {
  const res = await db.query<{ metadata_location: string | null; committed_to: string[] | null }>(
    `SELECT t.metadata_location, w.committed_to
       FROM (SELECT $1::text AS catalog_name, $2::text AS table_namespace, $3::text AS table_name) k
       LEFT JOIN iceberg_tables t USING (catalog_name, table_namespace, table_name)
       LEFT JOIN coldtier_watermarks w USING (catalog_name, table_namespace, table_name)`,
    [id.catalog, id.namespace, id.table],
  );
  const row = res.rows[0];
  const metadataLocation = row?.metadata_location ?? null;
  // A watermark without a table (set by hand before any commit) covers nothing that Iceberg holds.
  return { key: metadataLocation ? (row?.committed_to ?? null) : null, metadataLocation };
}
