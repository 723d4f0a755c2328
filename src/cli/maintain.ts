import type { AuditStatus, BackfillTableResult, BackfillWorkflowInput, MaintenanceStage, MaintenanceTableResult, MaintenanceWorkflowInput, MaintenanceWorkflowResult } from '../activities/types';
import { parseWindow } from '../activities/window';
import type { Settings } from '../config/settings';
import { tableConfig } from '../config/lookup';
import { connectClient } from '../temporal/connection';
import { bytes, duration, num, shorten, table, timestamp } from './format';
import { watchProgress } from './progress';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';

/** Audit statuses that fail the run (as the maintenance workflow fails it). */
const FAILING_AUDIT_STATUSES: AuditStatus[] = ['missing_data', 'duplicate_data', 'mismatch', 'error'];

const stamp = (d = new Date()) => d.toISOString().replace(/[:.]/g, '-');

/**
 * What `maintain --wait` reports: the workflow's result with statuses that match its outcome. The workflow fails a
 * run whose audit found missing data (AuditFailed, with the result as details, whose status still says how the
 * other stages went); the report then says `failed`, and so does every table whose audit is missing_data, duplicate_data, mismatch or error.
 */
export interface MaintenanceReport extends Omit<MaintenanceWorkflowResult, 'status' | 'tables'> {
  workflowId: string;
  status: 'ok' | 'partial' | 'failed';
  /** The workflow's failure message (names the tables and hours), when it failed. */
  error?: string;
  tables: (Omit<MaintenanceTableResult, 'status'> & { status: 'ok' | 'warning' | 'failed' })[];
}

/** Exit code of `maintain --wait`: 0 ok, 2 partial (a stage failed for a table), 1 failed (the audit failed the run). */
export const maintenanceExitCode = (r: MaintenanceReport): number => (r.status === 'ok' ? 0 : r.status === 'partial' ? 2 : 1);

export function maintenanceReport(workflowId: string, r: MaintenanceWorkflowResult, error?: string): MaintenanceReport {
  const tables = r.tables.map((t) => {
    const audit = t.audit?.status;
    const status = t.status === 'failed' || (audit !== undefined && FAILING_AUDIT_STATUSES.includes(audit)) ? ('failed' as const) : audit === 'warning' ? ('warning' as const) : ('ok' as const);
    return { ...t, status };
  });
  return { workflowId, ...r, status: error !== undefined ? 'failed' : r.status, ...(error !== undefined ? { error } : {}), tables };
}

/** Starts a maintenance run now; with wait, prints per table: files before/after, bytes, snapshots expired, files deleted, audit. */
export async function startMaintenance(settings: Settings, input: MaintenanceWorkflowInput, opts: { wait: boolean; json: boolean; workflowId?: string }): Promise<MaintenanceReport | null> {
  for (const t of input.tables ?? []) tableConfig(settings, t);
  const client = await connectClient(settings.temporal);
  try {
    const workflowId = opts.workflowId ?? `coldtier-maintenance-manual-${stamp()}`;
    const handle = await client.workflow.start('maintenanceWorkflow', {
      taskQueue: settings.temporal.taskQueue,
      workflowId,
      args: [input],
      staticSummary: `maintenance ${(input.stages ?? ['compact', 'rewrite-manifests', 'expire', 'orphans', 'audit']).join(' → ')} of ${input.tables?.join(', ') ?? `all ${settings.tables.length} tables`}${input.dryRun ? ' (dry run)' : ''} (manual)`,
    });
    if (!opts.wait) {
      console.log(opts.json ? JSON.stringify({ workflowId, runId: handle.firstExecutionRunId, taskQueue: settings.temporal.taskQueue }, null, 2) : `started maintenance workflow ${workflowId}`);
      return null;
    }
    if (!opts.json) console.log(`started maintenance workflow ${workflowId}`);
    let report: MaintenanceReport;
    const progress = watchProgress(client, settings, handle);
    try {
      report = maintenanceReport(workflowId, (await handle.result()) as MaintenanceWorkflowResult);
    } catch (err) {
      // A failed audit carries the full result as its details: report it as failed, print it, then the message.
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as MaintenanceWorkflowResult | undefined) : undefined;
      if (!details) throw cause instanceof Error ? cause : err;
      report = maintenanceReport(workflowId, details, cause!.message);
      console.error(`coldtier: ${cause!.message}`);
    } finally {
      await progress.stop();
    }
    console.log(opts.json ? JSON.stringify(report, null, 2) : formatMaintenance(report));
    return report;
  } finally {
    await client.connection.close();
  }
}

export function formatMaintenance(r: MaintenanceReport): string {
  const rows = r.tables.map((t) => [
    t.table,
    t.status,
    t.compact ? `${num(t.compact.filesBefore)} → ${num(t.compact.filesAfter)}` : null,
    t.compact ? `${bytes(t.compact.bytesBefore)} → ${bytes(t.compact.bytesAfter)}` : null,
    t.rewriteManifests ? `${num(t.rewriteManifests.manifestsBefore)} → ${num(t.rewriteManifests.manifestsAfter)}` : null,
    t.expire?.snapshotsExpired,
    (t.expire?.filesDeleted ?? 0) + (t.orphans?.filesDeleted ?? 0),
    t.audit ? `${t.audit.status} (${num(t.audit.icebergRows)}/${num(t.audit.clickhouseRows)})` : null,
    shorten(t.errors.join('; ') || t.audit?.notes || ''),
  ]);
  const window = r.auditWindow ? `audit window ${timestamp(r.auditWindow.start)} → ${timestamp(r.auditWindow.end)}\n` : '';
  // Notes are shortened in the table; the complete notes of the tables that need attention (the audit's hours and
  // the repair command, kept on one line so it can be copied) follow it.
  const full = r.tables
    .filter((t) => t.status !== 'ok')
    .map((t) => `${t.table}: ${t.errors.join('; ') || t.audit?.notes || ''}`)
    .filter((n) => n.length > 0);
  const notes = full.length ? `\n\n${full.join('\n')}` : '';
  return `${window}${table(['table', 'status', 'files', 'bytes', 'manifests', 'snapshots expired', 'files deleted', 'audit (iceberg/clickhouse)', 'note'], rows)}${notes}\n${r.status} in ${duration(r.durationMs)}`;
}

export function parseStages(v: string): MaintenanceStage[] {
  const all: MaintenanceStage[] = ['compact', 'rewrite-manifests', 'expire', 'orphans', 'audit'];
  const stages = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of stages) if (!all.includes(s as MaintenanceStage)) throw new Error(`--stages: unknown stage ${JSON.stringify(s)}; use ${all.join(',')}`);
  return stages as MaintenanceStage[];
}

/** backfill / repair: validates the request before anything is written, then runs the backfill workflow. */
export async function startBackfill(settings: Settings, input: BackfillWorkflowInput, opts: { wait: boolean; json: boolean }): Promise<BackfillTableResult | null> {
  tableConfig(settings, input.table);
  const w = parseWindow(`${input.reason ?? 'backfill'} of ${input.table}`, input.from, input.to);
  const client = await connectClient(settings.temporal);
  try {
    const workflowId = `coldtier-${input.reason ?? 'backfill'}-${input.table}-${stamp()}`;
    const handle = await client.workflow.start('backfillWorkflow', {
      taskQueue: settings.temporal.taskQueue,
      workflowId,
      args: [{ ...input, from: w.from.toISOString(), to: w.to.toISOString() }],
      staticSummary: `${input.reason ?? 'backfill'} ${input.table} ${w.from.toISOString()} → ${w.to.toISOString()}`,
    });
    if (!opts.json) console.log(`started ${input.reason ?? 'backfill'} workflow ${workflowId}`);
    if (!opts.wait) return null;
    const r = (await handle.result()) as BackfillTableResult;
    if (opts.json) console.log(JSON.stringify(r, null, 2));
    else {
      const hours = r.repairedHours.map((h) => [h.hour, h.clickhouse, h.iceberg, h.added]);
      console.log(`${hours.length ? table(['hour', 'clickhouse rows', 'iceberg rows before', 'added'], hours) : 'every hour already complete'}\n${r.table}: ${r.rowsAdded} rows added in ${r.files} files (${duration(r.durationMs)})`);
      if (r.restatedWindows !== undefined) console.log(r.restatedWindows ? `${r.table}: ${r.restatedWindows} stale rollup windows restated from the source (${r.restated?.join(', ')}${r.restatedWindows > (r.restated?.length ?? 0) ? ', …' : ''})` : r.restateSkippedWindows ? `${r.table}: no rollup window restated` : `${r.table}: every rollup window equals the source`);
      if (r.restateSkippedWindows) console.log(`${r.table}: ${r.restateSkippedWindows} windows differ but were not restated: ClickHouse no longer holds all their source rows (TTL), so Iceberg keeps them (${r.restateSkipped?.join(', ')})`);
      const d = r.duplicates;
      if (d) console.log(d.rowsRemoved ? `${table(['hour', 'duplicates removed'], d.hours.map((h) => [h.hour, h.removed]))}\n${r.table}: ${d.rowsRemoved} duplicated rows removed (${d.filesRewritten} files rewritten, snapshot ${d.snapshotId})` : `${r.table}: no duplicated rows`);
    }
    return r;
  } finally {
    await client.connection.close();
  }
}
