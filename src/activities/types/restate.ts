// Inputs and results of rollup restatement: plain data, it travels through Temporal history.

export interface RestateTableInput {
  table: string;
}

export interface RestateTableResult {
  table: string;
  /**
   * restated: windows were recomputed and replaced in one commit; noop: no late rows for windows in Iceberg;
   * started: first run, the mark was set to the derived table's committed key (history before it is not examined).
   */
  status: 'restated' | 'noop' | 'started';
  /** Windows recomputed from the source and replaced in Iceberg by this activity. */
  restatedWindows: number;
  /** The first few restated window starts (ISO), for the UI; all of them are in the snapshot summary's count. */
  windows: string[];
  /**
   * Changed windows left as Iceberg has them because ClickHouse no longer holds all their rows of the derived-from
   * table (its TTL): recomputing them would keep only part of their trades.
   */
  skippedWindows: number;
  skipped: string[];
  /** The overwrite (or append, when none of the windows had rows yet) snapshot; null without a commit. */
  snapshotId: string | null;
  /** Ingestion keys of the derived-from table examined: (markFrom, markTo]. */
  markFrom: string[] | null;
  markTo: string[] | null;
  durationMs: number;
}

export interface RestateWindowInput {
  table: string;
  /** ISO start (inclusive) of the window-start range to compare. */
  from: string;
  /** ISO end (exclusive). */
  to: string;
  reason?: string;
}

export interface RestateWindowResult {
  table: string;
  /** not-a-rollup: the table has no derivedFrom, nothing was compared. */
  status: 'restated' | 'ok' | 'not-a-rollup';
  /** Windows compared (present in Iceberg or in the source, at or below the watermark). */
  windowsCompared: number;
  restatedWindows: number;
  windows: string[];
  /** Differing windows left alone because ClickHouse no longer holds all their source rows (see RestateTableResult). */
  skippedWindows: number;
  skipped: string[];
  snapshotId: string | null;
  durationMs: number;
}
