import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { newTableLocation, newTableMetadata, readTableMetadata, serializeTableMetadata, writeVersionHint, type FileIO, type Schema } from '../iceberg';
import { ensureNamespace, loadMetadataLocation, registerTable, type CatalogTableId } from '../iceberg/catalog/jdbc';
import type { TableConfig } from '../config/tables';
import type { LoadedTable } from './commit';

/** Loads the Iceberg table, or returns null if the catalog has no such table yet. */
export async function loadTable(pool: pg.Pool, io: FileIO, id: CatalogTableId): Promise<LoadedTable | null> {
  const uri = await loadMetadataLocation(pool, id);
  return uri ? { metadata: await readTableMetadata(io, uri), metadataUri: uri } : null;
}

/**
 * Creates the table on first use from the source schema, the registry's partition spec and sort order.
 * Two workers creating it at once: one INSERT wins, the other deletes its metadata file and loads the winner's.
 */
export async function createTableIfMissing(pool: pg.Pool, io: FileIO, warehouse: string, id: CatalogTableId, cfg: TableConfig, schema: Schema): Promise<LoadedTable> {
  const existing = await loadTable(pool, io, id);
  if (existing) return existing;
  await ensureNamespace(pool, id.catalog, id.namespace);
  const location = newTableLocation(warehouse, id.namespace, id.table);
  const metadata = newTableMetadata({
    location,
    schema,
    partitionBy: cfg.partitionBy.map((p) => ({ sourceColumn: p.column, transform: p.transform as never })),
    sortBy: cfg.sortBy.map((c) => ({ sourceColumn: c })),
    properties: { 'coldtier.source': cfg.source, ...cfg.properties },
  });
  const metadataUri = `${location}/metadata/00000-${randomUUID()}.metadata.json`;
  await io.write(metadataUri, new TextEncoder().encode(serializeTableMetadata(metadata)));
  if (!(await registerTable(pool, id, metadataUri))) {
    await io.delete(metadataUri);
    const winner = await loadTable(pool, io, id);
    if (!winner) throw new Error(`iceberg create of ${id.namespace}.${id.table}: lost the create race but found no table; will retry`);
    return winner;
  }
  await writeVersionHint(io, metadata, metadataUri).catch(() => undefined);
  return { metadata, metadataUri };
}
