// Inputs and results of backfill and repair: plain data, it travels through Temporal history.

export interface BackfillTableInput {
  table: string;
  /** ISO start (inclusive) of the event-time window. */
  from: string;
  /** ISO end (exclusive). */
  to: string;
  /** Why: shown in the snapshot summary (e.g. "repair after audit"). */
  reason?: string;
}

export interface BackfillHour {
  hour: string;
  clickhouse: number;
  iceberg: number;
  added: number;
}

export interface BackfillTableResult {
  table: string;
  from: string;
  to: string;
  rowsAdded: number;
  files: number;
  snapshotIds: string[];
  /** Hours whose row sets differed before the backfill. */
  repairedHours: BackfillHour[];
  durationMs: number;
  /** Rollups: windows whose values differed from the source and were restated (set by the workflow). */
  restatedWindows?: number;
  /** Their first few window starts (ISO). */
  restated?: string[];
  /** The restatement's overwrite snapshot. */
  restatedSnapshotId?: string;
  /** Differing windows not restated because ClickHouse no longer holds all their source rows (TTL), and the first few. */
  restateSkippedWindows?: number;
  restateSkipped?: string[];
  /** A repair also removes duplicated rows of the window (one commit); absent for a backfill and older repairs. */
  duplicates?: DedupeTableResult;
}

export interface DedupeTableInput {
  table: string;
  /** ISO start (inclusive) of the event-time window. */
  from: string;
  /** ISO end (exclusive). */
  to: string;
}

export interface DedupeTableResult {
  table: string;
  from: string;
  to: string;
  /** Second (third, …) copies of a row key removed. */
  rowsRemoved: number;
  /** Data files rewritten without their copies (or removed, when they held copies only). */
  filesRewritten: number;
  filesAdded: number;
  /** The `delete` snapshot; null when nothing was duplicated. */
  snapshotId: string | null;
  hours: { hour: string; removed: number }[];
  durationMs: number;
}

export interface BackfillWorkflowInput {
  table: string;
  from: string;
  to: string;
  reason?: string;
}
