import { defineSearchAttributeKey } from '@temporalio/common';
import { ApplicationFailure, patched, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AuditStatus, AuditTableResult, MaintenanceStage, MaintenanceTableResult, MaintenanceWorkflowInput, MaintenanceWorkflowResult } from '../activities/types';
import { failureMessage } from './failures';
import { COLDTIER_STATUS, COLDTIER_TABLES, type ColdtierStatus } from './search-attributes';

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');
const STAGES: MaintenanceStage[] = ['compact', 'rewrite-manifests', 'expire', 'orphans', 'audit'];
/** The default stages of runs started before rewrite-manifests existed (their histories replay with these). */
const STAGES_BEFORE_REWRITE_MANIFESTS: MaintenanceStage[] = ['compact', 'expire', 'orphans', 'audit'];
const HOUR = 3_600_000;
/** Audit statuses that fail the run (as `coldtier maintain` reports them). */
const FAILING_AUDIT: AuditStatus[] = ['missing_data', 'duplicate_data', 'mismatch', 'error'];
/**
 * Runs started before this patch keep their old behaviour on replay: window end at the action time, no search
 * attributes, and a throwing audit activity fails the run. New runs record the marker and take the new path.
 */
const AUDIT_BUFFER_PATCH = 'maintenance-audit-buffer-search-attributes';
/** A run without explicit stages runs rewrite-manifests after compact only from this patch on (older runs replay without it). */
const REWRITE_MANIFESTS_PATCH = 'maintenance-rewrite-manifests-stage';

const { planOffload } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } });

/** Per-stage activity options, like the seeds' budgets: compact 10 min/table, expire 5 min/table, audit 10 min. */
function stage(name: MaintenanceStage, table: string, heartbeatTimeoutSeconds = 300) {
  const timeouts = { compact: '1 hour', 'rewrite-manifests': '30 minutes', expire: '30 minutes', orphans: '30 minutes', audit: '30 minutes' } as const;
  return proxyActivities<Activities>({
    summary: `${name} ${table}`,
    startToCloseTimeout: timeouts[name],
    heartbeatTimeout: `${heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 3 },
  });
}

/** Validated parameters with the seeds' defaults merged in one place. */
export function maintenanceParams(input: MaintenanceWorkflowInput) {
  const p = {
    // patched() only when the default applies, so runs with explicit stages record no marker (and replay unchanged).
    stages: input.stages?.length ? input.stages : patched(REWRITE_MANIFESTS_PATCH) ? STAGES : STAGES_BEFORE_REWRITE_MANIFESTS,
    targetFileSizeMb: input.targetFileSizeMb ?? 128,
    minInputFiles: input.minInputFiles ?? 5,
    snapshotMaxAgeHours: input.snapshotMaxAgeHours ?? 168,
    snapshotRetainLast: input.snapshotRetainLast ?? 3,
    orphanMinAgeHours: input.orphanMinAgeHours ?? 72,
    auditWindowHours: input.auditWindowHours ?? 24,
    auditBufferHours: input.auditBufferHours ?? 2,
    dryRun: input.dryRun ?? false,
    heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds ?? 300,
  };
  const bad = (m: string) => ApplicationFailure.nonRetryable(`maintenance: ${m}`, 'BadRequestError');
  for (const s of p.stages) if (!STAGES.includes(s)) throw bad(`unknown stage ${JSON.stringify(s)}; stages are ${STAGES.join(', ')}`);
  if (!(p.orphanMinAgeHours >= 24)) throw bad(`orphan_min_age_hours ${p.orphanMinAgeHours} is under 24; files that young may belong to a write still in flight`);
  if (!(p.targetFileSizeMb > 0)) throw bad(`target_file_size_mb must be positive, got ${p.targetFileSizeMb}`);
  if (!(p.snapshotMaxAgeHours >= 0)) throw bad(`snapshot_max_age_hours must be 0 or more, got ${p.snapshotMaxAgeHours}`);
  if (!(Number.isInteger(p.snapshotRetainLast) && p.snapshotRetainLast >= 1)) throw bad(`snapshot_retain_last must be an integer of at least 1, got ${p.snapshotRetainLast}`);
  if (!(p.auditWindowHours >= 1)) throw bad(`audit_window_hours must be at least 1, got ${p.auditWindowHours}`);
  if (!(p.auditBufferHours >= 0)) throw bad(`audit_buffer_hours must be 0 or more, got ${p.auditBufferHours}`);
  if (!(Number.isInteger(p.minInputFiles) && p.minInputFiles >= 1)) throw bad(`min_input_files must be an integer of at least 1, got ${p.minInputFiles}`);
  if (!(p.heartbeatTimeoutSeconds >= 1)) throw bad(`heartbeatTimeoutSeconds must be at least 1, got ${p.heartbeatTimeoutSeconds}`);
  return p;
}

/**
 * The audit window ends `bufferHours` before the schedule's action time (TemporalScheduledStartTime), truncated to
 * the hour, so a late or backfilled run audits the day it was scheduled for, not the day it happens to run: the
 * 02:00 UTC run audits 00:00 → 24:00 of the previous day (the seeds' window and 2-hour buffer). An explicit
 * auditWindowEnd wins (truncated to the hour, no buffer).
 */
function auditWindow(input: MaintenanceWorkflowInput, hours: number, bufferHours: number): { start: string; end: string } {
  const scheduled = workflowInfo().typedSearchAttributes.get(SCHEDULED_START);
  const anchor = input.auditWindowEnd ? new Date(input.auditWindowEnd) : new Date((scheduled ?? workflowInfo().startTime).getTime() - bufferHours * HOUR);
  if (Number.isNaN(anchor.getTime())) throw ApplicationFailure.nonRetryable(`maintenance: auditWindowEnd ${JSON.stringify(input.auditWindowEnd)} is not an ISO time`, 'BadRequestError');
  const end = Math.floor(anchor.getTime() / HOUR) * HOUR;
  return { start: new Date(end - hours * HOUR).toISOString(), end: new Date(end).toISOString() };
}

/** The verdict of a table whose audit activity failed (after its retries): status error, with the reason. */
function auditFailed(table: string, window: { start: string; end: string }, err: unknown): AuditTableResult {
  return {
    table, windowStart: window.start, windowEnd: window.end, clickhouseRows: 0, icebergRows: 0, deltaPct: 0, status: 'error', hoursDiffering: [],
    notes: `the audit activity failed: ${failureMessage(err)}; fix the cause and rerun: coldtier maintain --tables ${table} --stages audit --audit-window-end ${window.end} --audit-window-hours ${(Date.parse(window.end) - Date.parse(window.start)) / HOUR}`,
  };
}

/**
 * Daily maintenance (DECISION-017): compact → rewrite manifests → expire → remove orphans → audit, each table in turn. A table whose
 * compact/expire/orphans fails is logged and the rest continue (status partial). An audit with missing data or an
 * error (also an audit activity that failed: the other tables are still audited) fails the run with a non-retryable
 * error, so it shows as Failed in the UI and alerts. ColdtierTables / ColdtierStatus (running, then ok, partial or
 * failed) make runs searchable, as for the offload.
 */
export async function maintenanceWorkflow(input: MaintenanceWorkflowInput = {}): Promise<MaintenanceWorkflowResult> {
  const started = Date.now();
  const p = maintenanceParams(input);
  const current = patched(AUDIT_BUFFER_PATCH);
  const window = p.stages.includes('audit') ? auditWindow(input, p.auditWindowHours, current ? p.auditBufferHours : 0) : null;
  const plan = await planOffload({ ...(input.tables ? { tables: input.tables } : {}) });
  // Searchable in the Web UI / `temporal workflow list --query`, like the offload's; the worker makes sure they exist.
  if (current) upsertSearchAttributes([{ key: COLDTIER_TABLES, value: plan.map((t) => t.table) }, { key: COLDTIER_STATUS, value: 'running' }]);
  const results: MaintenanceTableResult[] = plan.map((t) => ({ table: t.table, status: 'ok', errors: [] }));
  const run = async (r: MaintenanceTableResult, name: MaintenanceStage, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      r.status = 'failed';
      r.errors.push(`${name}: ${failureMessage(err)}`);
    }
  };
  // Stage by stage over all tables, one table at a time (the seeds' order): fresh compacted snapshots are never
  // expired in the same run, and the audit sees the finished tables.
  for (const name of p.stages.filter((s) => s !== 'audit')) {
    for (const r of results) {
      const acts = stage(name, r.table, p.heartbeatTimeoutSeconds);
      if (name === 'compact') await run(r, name, async () => void (r.compact = await acts.compactTable({ table: r.table, targetFileSizeMb: p.targetFileSizeMb, minInputFiles: p.minInputFiles, dryRun: p.dryRun })));
      if (name === 'rewrite-manifests') await run(r, name, async () => void (r.rewriteManifests = await acts.rewriteManifestsTable({ table: r.table, dryRun: p.dryRun })));
      if (name === 'expire') await run(r, name, async () => void (r.expire = await acts.expireTable({ table: r.table, snapshotMaxAgeHours: p.snapshotMaxAgeHours, retainLast: p.snapshotRetainLast, dryRun: p.dryRun })));
      if (name === 'orphans') await run(r, name, async () => void (r.orphans = await acts.removeOrphans({ table: r.table, olderThanHours: p.orphanMinAgeHours, dryRun: p.dryRun })));
    }
  }
  if (window) {
    for (const r of results) {
      try {
        r.audit = await stage('audit', r.table, p.heartbeatTimeoutSeconds).auditTable({ table: r.table, windowStart: window.start, windowEnd: window.end });
      } catch (err) {
        if (!current) throw err;
        r.audit = auditFailed(r.table, window, err);
      }
    }
  }
  const result: MaintenanceWorkflowResult = {
    status: results.some((r) => r.status === 'failed') ? 'partial' : 'ok',
    auditWindow: window,
    tables: results,
    durationMs: Date.now() - started,
  };
  setCurrentDetails(detailsMarkdown(result));
  // duplicate_data and mismatch are newer statuses than the recorded histories: no old run can hold them, so this
  // wider filter replays every history unchanged.
  const bad = results.filter((r) => r.audit && FAILING_AUDIT.includes(r.audit.status));
  const status: ColdtierStatus = bad.length ? 'failed' : result.status;
  if (current) upsertSearchAttributes([{ key: COLDTIER_STATUS, value: status }]);
  if (bad.length) {
    const what = bad.map((r) => `${r.table}: ${r.audit!.status} (${r.audit!.icebergRows}/${r.audit!.clickhouseRows} rows${r.audit!.notes ? `; ${r.audit!.notes}` : ''})`).join('; ');
    throw ApplicationFailure.create({
      message: `maintenance audit of ${window!.start}/${window!.end} failed: ${what}`,
      type: 'AuditFailed',
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

function detailsMarkdown(r: MaintenanceWorkflowResult): string {
  const rows = r.tables.map(
    (t) =>
      `| ${t.table} | ${t.compact ? `${t.compact.filesBefore}→${t.compact.filesAfter}` : ''} | ${t.expire?.snapshotsExpired ?? ''} | ${(t.expire?.filesDeleted ?? 0) + (t.orphans?.filesDeleted ?? 0)} | ${t.audit?.status ?? ''} | ${t.errors.join('; ').replace(/[|\n]/g, ' ')} |`,
  );
  return [`audit window ${r.auditWindow ? `${r.auditWindow.start} → ${r.auditWindow.end}` : '-'}, status ${r.status}`, '', '| table | files | snapshots expired | files deleted | audit | errors |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
