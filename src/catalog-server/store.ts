import type pg from 'pg';
import {
  listNamespaceNames,
  listTableNames,
  loadNamespaceProperties,
  loadTableLocation,
  readTableMetadata,
  serializeTableMetadata,
  type FileIO,
  type TableMetadata,
} from '../iceberg';

/** A REST namespace is a list of levels; the JDBC layout stores it dotted. */
export const jdbcName = (ns: string[]) => ns.join('.');
const levels = (name: string) => name.split('.');
const isPrefix = (p: string[], n: string[]) => p.length <= n.length && p.every((x, i) => x === n[i]);

/** Metadata files are immutable, so a parsed file is kept by its location; the catalog row says which is current. */
const CACHED_FILES = 64;

/** Read-only view of the JDBC-layout catalog rows of one catalog_name, and of the metadata files they point at. */
export class CatalogStore {
  private readonly files = new Map<string, TableMetadata>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly io: FileIO,
    readonly catalog: string,
  ) {}

  /** Children of `parent` (top level when empty): the next level of every namespace below it; null if it does not exist. */
  async childNamespaces(parent: string[]): Promise<string[][] | null> {
    const all = (await listNamespaceNames(this.pool, this.catalog)).map(levels);
    if (parent.length > 0 && !all.some((n) => isPrefix(parent, n))) return null;
    const children = new Map<string, string[]>();
    for (const n of all) if (n.length > parent.length && isPrefix(parent, n)) children.set(jdbcName(n.slice(0, parent.length + 1)), n.slice(0, parent.length + 1));
    return [...children.values()].sort((a, b) => (jdbcName(a) < jdbcName(b) ? -1 : 1));
  }

  /** A namespace exists when it has properties, holds a table, or is the parent of one that does (as JdbcCatalog sees it). */
  async namespaceExists(ns: string[]): Promise<boolean> {
    return (await listNamespaceNames(this.pool, this.catalog)).some((n) => isPrefix(ns, levels(n)));
  }

  async namespaceProperties(ns: string[]): Promise<Record<string, string> | null> {
    if (!(await this.namespaceExists(ns))) return null;
    return loadNamespaceProperties(this.pool, this.catalog, jdbcName(ns));
  }

  async tables(ns: string[]): Promise<string[] | null> {
    if (!(await this.namespaceExists(ns))) return null;
    return listTableNames(this.pool, this.catalog, jdbcName(ns));
  }

  /** The current metadata file of a table, from its catalog row; null when there is no such table. */
  metadataLocation(ns: string[], table: string): Promise<string | null> {
    return loadTableLocation(this.pool, { catalog: this.catalog, namespace: jdbcName(ns), table });
  }

  /**
   * The metadata file as JSON text. `refs`: only the snapshots a branch or tag points at (the spec's
   * `snapshots=refs`). Re-serialized by our own writer so 64-bit snapshot ids keep every digit.
   */
  async metadataJson(location: string, snapshots: 'all' | 'refs'): Promise<string> {
    let meta = this.files.get(location);
    if (!meta) {
      meta = await readTableMetadata(this.io, location);
      if (this.files.size >= CACHED_FILES) this.files.delete(this.files.keys().next().value!);
      this.files.set(location, meta);
    }
    if (snapshots === 'all') return serializeTableMetadata(meta);
    const referenced = new Set(Object.values(meta.refs ?? {}).map((r) => String(r['snapshot-id'])));
    return serializeTableMetadata({ ...meta, snapshots: meta.snapshots.filter((s) => referenced.has(String(s['snapshot-id']))) });
  }
}
