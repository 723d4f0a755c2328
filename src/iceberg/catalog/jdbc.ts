import type pg from 'pg';

/**
 * The Iceberg JDBC/SQL catalog layout (Iceberg Java JdbcCatalog, PyIceberg SqlCatalog) in Postgres.
 * A commit is a compare-and-swap on metadata_location; exactly one updated row means it committed.
 */
export interface CatalogTableId {
  catalog: string;
  namespace: string;
  table: string;
}

type Db = pg.Pool | pg.PoolClient;

export async function ensureNamespace(db: Db, catalog: string, namespace: string): Promise<void> {
  // JdbcCatalog marks an existing namespace with the property exists=true.
  await db.query(
    `INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)
     VALUES ($1, $2, 'exists', 'true') ON CONFLICT DO NOTHING`,
    [catalog, namespace],
  );
}

export async function loadMetadataLocation(db: Db, id: CatalogTableId): Promise<string | null> {
  const res = await db.query<{ metadata_location: string | null }>(
    'SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3',
    [id.catalog, id.namespace, id.table],
  );
  return res.rows[0]?.metadata_location ?? null;
}

/** Registers a new table. Returns false if another writer registered it first (the caller loads theirs). */
export async function registerTable(db: Db, id: CatalogTableId, metadataLocation: string): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type)
     VALUES ($1, $2, $3, $4, NULL, 'TABLE') ON CONFLICT DO NOTHING`,
    [id.catalog, id.namespace, id.table, metadataLocation],
  );
  return res.rowCount === 1;
}

/** The compare-and-swap. Run it inside the transaction that also advances the watermark. */
export async function swapMetadataLocation(db: Db, id: CatalogTableId, expected: string, next: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE iceberg_tables SET metadata_location = $4, previous_metadata_location = $5
     WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND metadata_location = $5`,
    [id.catalog, id.namespace, id.table, next, expected],
  );
  return res.rowCount === 1;
}
