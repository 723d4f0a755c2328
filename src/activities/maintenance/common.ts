import { currentSnapshot, type LoadedTable } from '../../iceberg';

/** The current snapshot's totals and the retained snapshot count (zeros when the table does not exist). */
export function totals(t: LoadedTable | null): { files: number; bytes: number; rows: number; snapshots: number } {
  const s = t ? currentSnapshot(t.metadata) : undefined;
  return {
    files: Number(s?.summary?.['total-data-files'] ?? 0),
    bytes: Number(s?.summary?.['total-files-size'] ?? 0),
    rows: Number(s?.summary?.['total-records'] ?? 0),
    snapshots: t?.metadata.snapshots?.length ?? 0,
  };
}
