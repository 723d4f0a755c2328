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

// Totals that are carried forward from the parent even when this snapshot does not change them.
const TOTAL_KEYS = ['total-records', 'total-files-size', 'total-data-files', 'total-delete-files', 'total-position-deletes', 'total-equality-deletes'] as const;

/**
 * Builds an append summary per spec Appendix F: `added-*` for this commit,
 * `total-*` = parent total + added (a parent without totals, e.g. one written
 * by a writer that omits them, makes the totals unknown, so they are left out
 * like Iceberg Java does). Caller keys are merged last but cannot override the
 * computed ones.
 */
export function appendSummary(parent: Snapshot | undefined, added: AddedTotals, extra: Record<string, string> = {}): Snapshot['summary'] {
  const summary: Record<string, string> = { ...extra };
  const set = (k: string, v: number): void => { summary[k] = String(v); };
  set('added-data-files', added.dataFiles);
  set('added-records', added.records);
  set('added-files-size', added.filesSize);
  set('changed-partition-count', added.changedPartitions);
  const parentTotal = (k: (typeof TOTAL_KEYS)[number]): number | undefined => {
    if (!parent) return 0;
    const v = parent.summary[k];
    return v === undefined ? undefined : Number(v);
  };
  const delta: Record<(typeof TOTAL_KEYS)[number], number> = {
    'total-records': added.records,
    'total-files-size': added.filesSize,
    'total-data-files': added.dataFiles,
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
  return { operation: 'append', ...summary };
}
