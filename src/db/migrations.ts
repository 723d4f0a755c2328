import type pg from 'pg';

/**
 * Postgres schema, applied in order on every start. Each step is idempotent and recorded in
 * coldtier_schema_migrations; an advisory lock serialises workers starting at the same time.
 *
 * iceberg_tables / iceberg_namespace_properties use exactly the layout of Iceberg Java's JdbcCatalog (V1, with
 * iceberg_type) and PyIceberg's SqlCatalog, so Spark, Trino, Flink and PyIceberg read our tables with no extra
 * service. Keeping them in the watermark database is what lets one transaction swap the table metadata and
 * advance the watermark.
 */
const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'jdbc catalog',
    sql: `
      CREATE TABLE IF NOT EXISTS iceberg_tables (
        catalog_name VARCHAR(255) NOT NULL,
        table_namespace VARCHAR(255) NOT NULL,
        table_name VARCHAR(255) NOT NULL,
        metadata_location VARCHAR(1000),
        previous_metadata_location VARCHAR(1000),
        iceberg_type VARCHAR(5),
        PRIMARY KEY (catalog_name, table_namespace, table_name)
      );
      CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
        catalog_name VARCHAR(255) NOT NULL,
        namespace VARCHAR(255) NOT NULL,
        property_key VARCHAR(255) NOT NULL,
        property_value VARCHAR(1000),
        PRIMARY KEY (catalog_name, namespace, property_key)
      );`,
  },
  {
    version: 2,
    name: 'watermarks',
    sql: `
      CREATE TABLE IF NOT EXISTS coldtier_watermarks (
        catalog_name VARCHAR(255) NOT NULL,
        table_namespace VARCHAR(255) NOT NULL,
        table_name VARCHAR(255) NOT NULL,
        watermark_columns JSONB NOT NULL,
        watermark_values JSONB NOT NULL,
        watermark_ts TIMESTAMPTZ NOT NULL,
        last_offload_id TEXT,
        last_snapshot_id TEXT,
        rows_offloaded BIGINT NOT NULL DEFAULT 0,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (catalog_name, table_namespace, table_name)
      );`,
  },
  {
    version: 3,
    name: 'audit log',
    sql: `
      CREATE TABLE IF NOT EXISTS maintenance_audit_log (
        id BIGSERIAL PRIMARY KEY,
        run_timestamp TIMESTAMPTZ NOT NULL,
        workflow_id TEXT,
        iceberg_table VARCHAR(512) NOT NULL,
        window_start TIMESTAMPTZ NOT NULL,
        window_end TIMESTAMPTZ NOT NULL,
        ch_row_count BIGINT,
        iceberg_row_count BIGINT,
        delta_pct DOUBLE PRECISION,
        status VARCHAR(32) NOT NULL,
        notes TEXT
      );
      CREATE INDEX IF NOT EXISTS maintenance_audit_log_run ON maintenance_audit_log (run_timestamp DESC);`,
  },
  {
    version: 4,
    name: 'highest committed key',
    // Moved only by commits, never by hand: a watermark moved backward cannot make the offload take rows twice.
    sql: `ALTER TABLE coldtier_watermarks ADD COLUMN IF NOT EXISTS committed_to JSONB;
          UPDATE coldtier_watermarks SET committed_to = watermark_values WHERE committed_to IS NULL;`,
  },
  {
    version: 5,
    name: 'one audit row per run and table',
    // A retried audit activity must not log the same window twice.
    sql: `CREATE UNIQUE INDEX IF NOT EXISTS maintenance_audit_log_once ON maintenance_audit_log (workflow_id, iceberg_table, window_start) WHERE workflow_id IS NOT NULL;`,
  },
  {
    version: 6,
    name: 'table lock fences',
    // One fencing epoch per table and lock purpose (src/db/fence.ts): bumped by every lock acquisition, checked and
    // row-locked by every commit, so an attempt that lost its lock can never commit after a successor took over.
    sql: `
      CREATE TABLE IF NOT EXISTS coldtier_table_fences (
        catalog_name VARCHAR(255) NOT NULL,
        table_namespace VARCHAR(255) NOT NULL,
        table_name VARCHAR(255) NOT NULL,
        purpose VARCHAR(32) NOT NULL,
        epoch BIGINT NOT NULL,
        holder TEXT,
        holder_attempt INT,
        holder_pid INT,
        acquired_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        commits BIGINT NOT NULL DEFAULT 0,
        last_commit_at TIMESTAMPTZ,
        PRIMARY KEY (catalog_name, table_namespace, table_name, purpose)
      );`,
  },
  {
    version: 7,
    name: 'restatement marks',
    // Per rollup (src/db/restatement.ts): the ingestion key of the table it is derived from up to which late rows
    // have been examined. Moved only in the transaction of the restatement's catalog swap (or alone, fenced, when
    // there was nothing to restate), so a retried restatement never restates the same rows twice.
    sql: `
      CREATE TABLE IF NOT EXISTS coldtier_restatement_marks (
        catalog_name VARCHAR(255) NOT NULL,
        table_namespace VARCHAR(255) NOT NULL,
        table_name VARCHAR(255) NOT NULL,
        source_table VARCHAR(255) NOT NULL,
        mark JSONB NOT NULL,
        last_snapshot_id TEXT,
        windows_restated BIGINT NOT NULL DEFAULT 0,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (catalog_name, table_namespace, table_name)
      );`,
  },
  {
    version: 8,
    name: 'rows lost to the source TTL',
    // The TTL guard (src/activities/ttl-guard.ts): key ranges the source's TTL deleted before they were offloaded,
    // recorded by the offload that found them, so the audit still reports the loss once later offloads have moved the
    // watermark past the gap. One row per gap (its lower key); a later look that finds more of it gone widens it.
    sql: `
      CREATE TABLE IF NOT EXISTS coldtier_rows_lost (
        catalog_name VARCHAR(255) NOT NULL,
        table_namespace VARCHAR(255) NOT NULL,
        table_name VARCHAR(255) NOT NULL,
        from_key JSONB NOT NULL,
        to_key JSONB NOT NULL,
        message TEXT NOT NULL,
        detected_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (catalog_name, table_namespace, table_name, from_key)
      );`,
  },
];

/** An arbitrary constant: the advisory lock key that serialises migrations. */
const MIGRATION_LOCK = 7_261_532_001;

/** Applies pending migrations. Safe to call from every process on every start. */
export async function migrate(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS coldtier_schema_migrations (
      version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM coldtier_schema_migrations')).rows.map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO coldtier_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
        applied.push(m.version);
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
}
