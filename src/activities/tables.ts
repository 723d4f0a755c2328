// A registry table as the activities see it: its catalog identifier, its Iceberg table, and the schema its source
// has now.
import { icebergSchemaFromClickHouse } from '../clickhouse/schema/from-clickhouse';
import type { ColumnInfo } from '../clickhouse/client';
import { tableConfig, tableIdent } from '../config/lookup';
import type { TableConfig } from '../config/tables';
import type { TableIdent } from '../db/watermarks';
import { createTableIfMissing, currentSchema, loadTable, type LoadedTable, type Schema, type TableMetadata } from '../iceberg';
import type { ActivityDeps } from './deps';

/** The registry entry, catalog id and loaded table (null when it was never offloaded). */
export async function resolveTable(deps: ActivityDeps, name: string): Promise<{ cfg: TableConfig; id: TableIdent; table: LoadedTable | null }> {
  const cfg = tableConfig(deps.settings, name);
  const id = tableIdent(deps.settings, cfg.name);
  return { cfg, id, table: await loadTable(deps.pool, deps.io, id) };
}

/** Creates the Iceberg table on first use from the source schema and the registry's partition spec and sort order. */
export function ensureTable(deps: ActivityDeps, cfg: TableConfig, id: TableIdent, schema: Schema): Promise<LoadedTable> {
  return createTableIfMissing(deps.pool, deps.io, id, {
    warehouse: deps.settings.warehouse,
    schema,
    partitionBy: cfg.partitionBy.map((p) => ({ sourceColumn: p.column, transform: p.transform as never })),
    sortBy: cfg.sortBy.map((c) => ({ sourceColumn: c })),
    properties: { 'coldtier.source': cfg.source, ...cfg.properties },
  });
}

export interface SourceSchema {
  /** The table's schema for the source's columns now: the current one, or its evolution. */
  schema: Schema;
  /** SELECT list producing `schema`'s fields, in order. */
  select: string[];
  /** Set when the source gained columns: the next commit adds this schema. */
  evolved?: Schema;
  /** Source columns of type LowCardinality(String) (or of Nullable strings): ClickHouse checks them on their dictionary. */
  lowCardinality: string[];
}

/** The source's columns mapped onto the table's current schema (ids kept by name, new columns appended). */
export function sourceSchema(cfg: TableConfig, columns: ColumnInfo[], meta: TableMetadata): SourceSchema {
  const current = currentSchema(meta);
  const { schema, select } = icebergSchemaFromClickHouse(cfg.name, columns, { previous: current, lastColumnId: meta['last-column-id'] });
  // icebergSchemaFromClickHouse returns `previous` itself when nothing changed.
  const lowCardinality = columns.filter((c) => /^LowCardinality\((Nullable\()?String\)/.test(c.type)).map((c) => c.name);
  return { schema, select, lowCardinality, ...(schema !== current ? { evolved: schema } : {}) };
}
