import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { FileIO } from '../io/file-io';
import type { Schema } from '../spec/schema';
import { serializeTableMetadata } from '../spec/metadata-json';
import { newTableMetadata, type PartitionFieldInput, type SortFieldInput, type TableMetadata } from '../spec/table-metadata';
import { newTableLocation, readTableMetadata, writeVersionHint } from '../table/metadata-io';
import { ensureNamespace, loadMetadataLocation, registerTable, type CatalogTableId } from './jdbc';

/** A table as last read from the catalog: its metadata and the metadata file the catalog pointed at. */
export interface LoadedTable {
  metadata: TableMetadata;
  metadataUri: string;
}

/** What a new table is made of. */
export interface NewTable {
  /** The warehouse root; the table lives at <warehouse>/<namespace>/<table>. */
  warehouse: string;
  schema: Schema;
  partitionBy: PartitionFieldInput[];
  sortBy: SortFieldInput[];
  properties: Record<string, string>;
}

/** Loads the Iceberg table, or returns null if the catalog has no such table yet. */
export async function loadTable(pool: pg.Pool, io: FileIO, id: CatalogTableId): Promise<LoadedTable | null> {
  const uri = await loadMetadataLocation(pool, id);
  return uri ? { metadata: await readTableMetadata(io, uri), metadataUri: uri } : null;
}

/**
 * Creates the table on first use. Two workers creating it at once: one INSERT wins, the other deletes its metadata
 * file and loads the winner's.
 */
export async function createTableIfMissing(pool: pg.Pool, io: FileIO, id: CatalogTableId, t: NewTable): Promise<LoadedTable> {
  const existing = await loadTable(pool, io, id);
  if (existing) return existing;
  await ensureNamespace(pool, id.catalog, id.namespace);
  const location = newTableLocation(t.warehouse, id.namespace, id.table);
  const metadata = newTableMetadata({ location, schema: t.schema, partitionBy: t.partitionBy, sortBy: t.sortBy, properties: t.properties });
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
