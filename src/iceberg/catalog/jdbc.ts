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

/**
 * Every namespace of `catalog`, as JdbcCatalog sees them: those with properties and those that hold a table
 * (JdbcCatalog creates tables without a properties row). Dotted names are the JDBC layout's multi-level namespaces.
 */
export async function listNamespaceNames(db: Db, catalog: string): Promise<string[]> {
  const res = await db.query<{ namespace: string }>(
    `SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = $1
     UNION SELECT table_namespace FROM iceberg_tables WHERE catalog_name = $1 ORDER BY 1`,
    [catalog],
  );
  return res.rows.map((r) => r.namespace);
}

/** The stored properties of one namespace (empty when it only holds tables). */
export async function loadNamespaceProperties(db: Db, catalog: string, namespace: string): Promise<Record<string, string>> {
  const res = await db.query<{ property_key: string; property_value: string | null }>(
    'SELECT property_key, property_value FROM iceberg_namespace_properties WHERE catalog_name = $1 AND namespace = $2 ORDER BY property_key',
    [catalog, namespace],
  );
  return Object.fromEntries(res.rows.map((r) => [r.property_key, r.property_value ?? '']));
}

/** Table names in one namespace (rows with iceberg_type 'TABLE' or NULL, as JdbcCatalog lists them; views excluded). */
export async function listTableNames(db: Db, catalog: string, namespace: string): Promise<string[]> {
  const res = await db.query<{ table_name: string }>(
    `SELECT table_name FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2
     AND (iceberg_type IS NULL OR iceberg_type = 'TABLE') ORDER BY table_name`,
    [catalog, namespace],
  );
  return res.rows.map((r) => r.table_name);
}

/** The metadata location of a table row (a view's row, iceberg_type 'VIEW', is not a table); null when there is none. */
export async function loadTableLocation(db: Db, id: CatalogTableId): Promise<string | null> {
  const res = await db.query<{ metadata_location: string | null }>(
    `SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3
     AND (iceberg_type IS NULL OR iceberg_type = 'TABLE')`,
    [id.catalog, id.namespace, id.table],
  );
  return res.rows[0]?.metadata_location ?? null;
}
