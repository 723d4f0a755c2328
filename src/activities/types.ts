/** Inputs and results shared by activities and workflows. Plain data only: it travels through Temporal history. */

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
  /** DataFile descriptions (see datafile-codec.ts). */
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
  /** Uncommitted files of a dead earlier attempt that this attempt deleted. */
  cleanedFiles?: number;
  /** Who encoded the Parquet files this attempt wrote (the table registry's `encoder`), and why not ClickHouse if not. */
  encoder?: 'clickhouse' | 'arrow';
  encoderReason?: string;
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

/** Parameters of the daily maintenance workflow (the seeds' DECISION-017 defaults). */
export interface MaintenanceWorkflowInput {
  tables?: string[];
  /** compact, expire, orphans, audit — in that order. @default all four */
  stages?: ('compact' | 'expire' | 'orphans' | 'audit')[];
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

import type { AuditTableResult } from './maintenance/audit';
import type { CompactTableResult } from './maintenance/compact';
import type { ExpireTableResult } from './maintenance/expire';
import type { OrphansTableResult } from './maintenance/orphans';

export type { BackfillTableInput, BackfillTableResult } from './backfill';
export type { AuditStatus, AuditTableInput, AuditTableResult } from './maintenance/audit';
export type { CompactTableInput, CompactTableResult } from './maintenance/compact';
export type { ExpireTableInput, ExpireTableResult } from './maintenance/expire';
export type { OrphansTableInput, OrphansTableResult } from './maintenance/orphans';

export type MaintenanceStage = 'compact' | 'expire' | 'orphans' | 'audit';

export interface MaintenanceTableResult {
  table: string;
  /** ok, or failed when compact/expire/orphans failed (logged, the rest continue). */
  status: 'ok' | 'failed';
  compact?: CompactTableResult;
  expire?: ExpireTableResult;
  orphans?: OrphansTableResult;
  audit?: AuditTableResult;
  errors: string[];
}

export interface MaintenanceWorkflowResult {
  /**
   * ok, or partial when a table's compact/expire/orphans failed. A failed audit (missing_data, or error — also when
   * the audit activity itself failed) fails the run instead, with this result as the AuditFailed error's details.
   */
  status: 'ok' | 'partial';
  auditWindow: { start: string; end: string } | null;
  tables: MaintenanceTableResult[];
  durationMs: number;
}

export interface BackfillWorkflowInput {
  table: string;
  from: string;
  to: string;
  reason?: string;
}
