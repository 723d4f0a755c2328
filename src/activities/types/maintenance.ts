// Inputs and results of the daily maintenance, per stage and per run: plain data, it travels through Temporal history.

/** Parameters of the daily maintenance workflow (the seeds' DECISION-017 defaults). */
export interface MaintenanceWorkflowInput {
  tables?: string[];
  /** compact, rewrite-manifests, expire, orphans, audit — in that order. @default all five */
  stages?: ('compact' | 'rewrite-manifests' | 'expire' | 'orphans' | 'audit')[];
  /** @default 128 */
  targetFileSizeMb?: number;
  /** Files in a partition below which compaction leaves it alone. @default 5 */
  minInputFiles?: number;
  /** @default 168 */
  snapshotMaxAgeHours?: number;
  /** @default 3 */
  snapshotRetainLast?: number;
  /** Refused below 24. @default 72 */
  orphanMinAgeHours?: number;
  /** @default 24 */
  auditWindowHours?: number;
  /**
   * Hours between the action time and the audit window end, for late data and the offload still catching up: the
   * 02:00 UTC run audits 00:00 → 24:00 of the previous day. 0 or more. @default 2
   */
  auditBufferHours?: number;
  /** Report the plan, write nothing. @default false */
  dryRun?: boolean;
  /**
   * End of the audit window (ISO, truncated to the hour; auditBufferHours is not applied to it). Defaults to the
   * schedule's action time (TemporalScheduledStartTime), or the workflow start time when not started by a schedule,
   * minus auditBufferHours, truncated to the hour.
   */
  auditWindowEnd?: string;
  /**
   * How soon Temporal gives up on a silent (crashed) worker and retries the table's stage elsewhere.
   * @default 300
   */
  heartbeatTimeoutSeconds?: number;
}



export type MaintenanceStage = 'compact' | 'rewrite-manifests' | 'expire' | 'orphans' | 'audit';

export interface MaintenanceTableResult {
  table: string;
  /** ok, or failed when compact/expire/orphans failed (logged, the rest continue). */
  status: 'ok' | 'failed';
  compact?: CompactTableResult;
  rewriteManifests?: RewriteManifestsTableResult;
  expire?: ExpireTableResult;
  orphans?: OrphansTableResult;
  audit?: AuditTableResult;
  errors: string[];
}

export interface MaintenanceWorkflowResult {
  /**
   * ok, or partial when a table's compact/expire/orphans failed. A failed audit (missing_data, duplicate_data, mismatch or error — also when
   * the audit activity itself failed) fails the run instead, with this result as the AuditFailed error's details.
   */
  status: 'ok' | 'partial';
  auditWindow: { start: string; end: string } | null;
  tables: MaintenanceTableResult[];
  durationMs: number;
}

export interface CompactTableInput {
  table: string;
  targetFileSizeMb: number;
  minInputFiles: number;
  dryRun: boolean;
}

export interface CompactTableResult {
  table: string;
  status: 'compacted' | 'nothing-to-do' | 'dry-run' | 'no-table';
  filesBefore: number;
  filesAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Partitions (groups) rewritten or planned. */
  groups: number;
  filesRewritten: number;
  filesAdded: number;
  snapshotId: string | null;
  durationMs: number;
  /**
   * Who read, sorted and encoded the rewritten files: ClickHouse (over the exact file list), or the worker's
   * parquet-wasm path for a table ClickHouse cannot write exactly; `encoderReason` says why not ClickHouse.
   * Set when groups were planned.
   */
  encoder?: 'clickhouse' | 'arrow';
  encoderReason?: string;
}

export interface ExpireTableInput {
  table: string;
  snapshotMaxAgeHours: number;
  retainLast: number;
  dryRun: boolean;
  /** The clock for the age cutoff (epoch ms). @default now */
  nowMs?: number;
}

export interface ExpireTableResult {
  table: string;
  snapshotsBefore: number;
  snapshotsAfter: number;
  snapshotsExpired: number;
  filesDeleted: number;
  durationMs: number;
}

export interface OrphansTableInput {
  table: string;
  olderThanHours: number;
  dryRun: boolean;
}

export interface OrphansTableResult {
  table: string;
  orphansFound: number;
  filesDeleted: number;
  bytesDeleted: number;
  /** Unfinished multipart uploads (a writer died mid-upload) older than the minimum age, aborted (dry run: found). */
  uploadsAborted: number;
  durationMs: number;
}

/**
 * ok/warning/missing_data: the seeds' count thresholds. duplicate_data: Iceberg holds a row key more often than the
 * source. mismatch: the same keys with different values (or keys the source does not have), in hours ClickHouse
 * still holds completely. missing_data, duplicate_data, mismatch and error fail the maintenance run.
 */
export type AuditStatus = 'ok' | 'warning' | 'missing_data' | 'duplicate_data' | 'mismatch' | 'error';

/** Why an hour differs (AuditHour.issue); beyond_ttl is no fault: ClickHouse no longer holds the hour completely. */
export type AuditIssue = 'missing' | 'duplicate' | 'mismatch' | 'beyond_ttl';

export interface AuditTableInput {
  table: string;
  windowStart: string;
  windowEnd: string;
}

export interface AuditHour {
  hour: string;
  clickhouse: number;
  iceberg: number;
  /** Distinct row keys (watermark + sort columns) in each system. */
  clickhouseKeys?: number;
  icebergKeys?: number;
  issue?: AuditIssue;
}

export interface AuditTableResult {
  table: string;
  windowStart: string;
  windowEnd: string;
  clickhouseRows: number;
  icebergRows: number;
  deltaPct: number;
  status: AuditStatus;
  /** The hours whose counts differ, so an operator sees which hours to repair. */
  hoursDiffering: AuditHour[];
  notes: string;
}

export interface RewriteManifestsTableInput {
  table: string;
  dryRun: boolean;
}

export interface RewriteManifestsTableResult {
  table: string;
  status: 'rewritten' | 'nothing-to-do' | 'dry-run' | 'no-table';
  /** Data manifests in the current snapshot before, and how many of them held only deleted entries. */
  manifestsBefore: number;
  deleteOnlyBefore: number;
  /** Manifests after the rewrite (dry run: what it would write; nothing to do: as before). */
  manifestsAfter: number;
  /** Live data-file entries rewritten. */
  entries: number;
  snapshotId: string | null;
  durationMs: number;
}
