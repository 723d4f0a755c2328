// Snapshots, refs and the Appendix F summary arithmetic.

export interface Snapshot {
  'snapshot-id': bigint;
  'parent-snapshot-id'?: bigint;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string> & { operation: string };
  'schema-id'?: number;
  [extra: string]: unknown;
}

export interface SnapshotRef {
  'snapshot-id': bigint;
  type: 'branch' | 'tag';
  'max-ref-age-ms'?: number;
  'max-snapshot-age-ms'?: number;
  'min-snapshots-to-keep'?: number;
}

export interface SnapshotLogEntry {
  'snapshot-id': bigint;
  'timestamp-ms': number;
}

export interface MetadataLogEntry {
  'metadata-file': string;
  'timestamp-ms': number;
}

/** What one append adds, for the summary. */
export interface AddedTotals {
  dataFiles: number;
  records: number;
  filesSize: number;
  changedPartitions: number;
}

/** What one snapshot adds and removes (append: nothing removed; replace: both). */
export interface SnapshotChange extends AddedTotals {
  deletedDataFiles: number;
  deletedRecords: number;
  removedFilesSize: number;
}

// Totals that are carried forward from the parent even when this snapshot does not change them.
const TOTAL_KEYS = ['total-records', 'total-files-size', 'total-data-files', 'total-delete-files', 'total-position-deletes', 'total-equality-deletes'] as const;

/**
 * Builds a summary per spec Appendix F (the keys Iceberg Java's
 * SnapshotSummary writes): `added-*` / `deleted-*` / `removed-files-size` for
 * this commit, `total-*` = parent total + added − deleted. A parent without
 * totals (a writer that omits them) makes the totals unknown, so they are left
 * out like Iceberg Java does. Caller keys are merged first and cannot override
 * the computed ones.
 */
export function snapshotSummary(operation: 'append' | 'replace' | 'overwrite' | 'delete', parent: Snapshot | undefined, change: SnapshotChange, extra: Record<string, string> = {}): Snapshot['summary'] {
  const summary: Record<string, string> = { ...extra };
  const set = (k: string, v: number): void => { summary[k] = String(v); };
  for (const k of ['added-data-files', 'added-records', 'added-files-size', 'deleted-data-files', 'deleted-records', 'removed-files-size']) delete summary[k];
  if (change.dataFiles > 0 || operation === 'append') {
    set('added-data-files', change.dataFiles);
    set('added-records', change.records);
    set('added-files-size', change.filesSize);
  }
  if (change.deletedDataFiles > 0) {
    set('deleted-data-files', change.deletedDataFiles);
    set('deleted-records', change.deletedRecords);
    set('removed-files-size', change.removedFilesSize);
  }
  set('changed-partition-count', change.changedPartitions);
  const parentTotal = (k: (typeof TOTAL_KEYS)[number]): number | undefined => {
    if (!parent) return 0;
    const v = parent.summary[k];
    return v === undefined ? undefined : Number(v);
  };
  const delta: Record<(typeof TOTAL_KEYS)[number], number> = {
    'total-records': change.records - change.deletedRecords,
    'total-files-size': change.filesSize - change.removedFilesSize,
    'total-data-files': change.dataFiles - change.deletedDataFiles,
    'total-delete-files': 0,
    'total-position-deletes': 0,
    'total-equality-deletes': 0,
  };
  for (const k of TOTAL_KEYS) {
    const base = parentTotal(k);
    if (base !== undefined && Number.isFinite(base)) set(k, base + delta[k]);
    else delete summary[k];
  }
  delete summary.operation;
  return { operation, ...summary };
}

/** Summary of an append (see snapshotSummary). */
export function appendSummary(parent: Snapshot | undefined, added: AddedTotals, extra: Record<string, string> = {}): Snapshot['summary'] {
  return snapshotSummary('append', parent, { ...added, deletedDataFiles: 0, deletedRecords: 0, removedFilesSize: 0 }, extra);
}
