// Inputs and results of the offload: plain data, it travels through Temporal history.

export type Layer = 'bronze' | 'silver' | 'gold';

export interface PlanOffloadInput {
  /** Table names to offload; all configured tables when omitted. */
  tables?: string[];
}

export interface PlannedTable {
  table: string;
  layer: Layer;
  dependsOn: string[];
  requireDependencies: boolean;
  /** A rollup with late-row restatement: the table it derives from (see restateTable). */
  derivedFrom?: string;
}

export interface OffloadTableInput {
  table: string;
  /** Return a fan-out plan instead of working through a large catch-up alone (set by the workflow). */
  allowFanOut?: boolean;
}

/** A catch-up split into key ranges (lo, hi] to be written in parallel and committed once. */
export interface FanOutPlan {
  /** The stored watermark the commit must start from. */
  expected: string[] | null;
  ranges: { lo: string[] | null; hi: { values: string[]; tsMicros: string } }[];
}

export interface WriteRangeInput {
  table: string;
  lo: string[] | null;
  hi: { values: string[]; tsMicros: string };
}

export interface WriteRangeResult {
  /** DataFile descriptions (see offload/datafile-codec.ts). */
  files: string[];
  rows: number;
  bytes: number;
}

export interface CommitRangesInput {
  table: string;
  plan: FanOutPlan;
  parts: WriteRangeResult[];
}

export interface OffloadTableResult {
  table: string;
  /** committed: new rows landed; noop: nothing new; skipped/failed are set by the workflow. */
  status: 'committed' | 'noop' | 'skipped' | 'failed' | 'fan-out';
  rows: number;
  files: number;
  bytes: number;
  /** Snapshot of the last commit of this activity (string: 64-bit ids stay exact). */
  snapshotId: string | null;
  commits: number;
  watermarkFrom: string[] | null;
  watermarkTo: string[] | null;
  /** True when a retry found the commits of an earlier attempt and returned them instead of committing again. */
  replayed: boolean;
  durationMs: number;
  /** Why the table was skipped or failed. */
  reason?: string;
  /**
   * Set when ClickHouse's TTL deleted source rows that were never offloaded (src/activities/ttl-guard.ts): in plain
   * words, the table and the key range that is gone for good. The rows above it are still offloaded.
   */
  rowsLost?: string;
  /**
   * The table's federated view (`coldtier federate --apply`), re-pinned by this activity right after its commit:
   * `refreshed`, `current` (already pinned to it), or why the refresh failed (the view keeps its older, still exact
   * pin). Absent when the table has no view or nothing was committed.
   */
  federatedView?: string;
  /** Uncommitted files of a dead earlier attempt that this attempt deleted. */
  cleanedFiles?: number;
  /** Who encoded the Parquet files this attempt wrote (the table registry's `encoder`), and why not ClickHouse if not. */
  encoder?: 'clickhouse' | 'arrow';
  encoderReason?: string;
  /** Rollup windows restated after the offload (late rows of the table it derives from); set by the workflow. */
  restatedWindows?: number;
  /** The restatement's overwrite snapshot, when it committed one. */
  restatedSnapshotId?: string;
  /** status fan-out: the plan the workflow runs as parallel write activities plus one commit. */
  fanOut?: FanOutPlan;
}

export interface OffloadWorkflowInput {
  /** Table names; all configured tables when omitted. */
  tables?: string[];
  /**
   * How soon Temporal gives up on a silent (crashed) worker and retries the table elsewhere.
   * @default 120
   */
  heartbeatTimeoutSeconds?: number;
  /**
   * Attempts per table activity (2 s backoff, doubling, at most 1 min apart) before the table is reported failed
   * for this cycle; the next cycle starts again from the watermark.
   * @default 10
   */
  maxAttempts?: number;
}

export interface OffloadWorkflowResult {
  status: 'ok' | 'partial' | 'failed';
  tables: OffloadTableResult[];
  rows: number;
  durationMs: number;
}
