import type { BackfillTableResult, BackfillWorkflowInput, MaintenanceStage, MaintenanceWorkflowInput, MaintenanceWorkflowResult } from '../activities/types';
import { parseWindow } from '../activities/window';
import type { Settings } from '../config/settings';
import { tableConfig } from '../config/lookup';
import { connectClient } from '../temporal/connection';
import { duration, table } from './format';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';

const stamp = (d = new Date()) => d.toISOString().replace(/[:.]/g, '-');

/** Starts a maintenance run now; with wait, prints per table: files before/after, bytes, snapshots expired, files deleted, audit. */
export async function startMaintenance(settings: Settings, input: MaintenanceWorkflowInput, opts: { wait: boolean; json: boolean; workflowId?: string }): Promise<MaintenanceWorkflowResult | null> {
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
    if (!opts.json) console.log(`started maintenance workflow ${workflowId}`);
    if (!opts.wait) return null;
    try {
      const result = (await handle.result()) as MaintenanceWorkflowResult;
      console.log(opts.json ? JSON.stringify(result, null, 2) : formatMaintenance(result));
      return result;
    } catch (err) {
      // A failed audit carries the full result as its details: print the table, then fail with the message.
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as MaintenanceWorkflowResult | undefined) : undefined;
      if (details) console.log(opts.json ? JSON.stringify(details, null, 2) : formatMaintenance(details));
      throw cause instanceof Error ? cause : err;
    }
  } finally {
    await client.connection.close();
  }
}

export function formatMaintenance(r: MaintenanceWorkflowResult): string {
  const rows = r.tables.map((t) => [
    t.table,
    t.compact ? `${t.compact.filesBefore} → ${t.compact.filesAfter}` : null,
    t.compact ? `${t.compact.bytesBefore} → ${t.compact.bytesAfter}` : null,
    t.rewriteManifests ? `${t.rewriteManifests.manifestsBefore} → ${t.rewriteManifests.manifestsAfter}` : null,
    t.expire?.snapshotsExpired,
    (t.expire?.filesDeleted ?? 0) + (t.orphans?.filesDeleted ?? 0),
    t.audit ? `${t.audit.status} (${t.audit.icebergRows}/${t.audit.clickhouseRows})` : null,
    t.errors.join('; ') || t.audit?.notes,
  ]);
  const window = r.auditWindow ? `audit window ${r.auditWindow.start} → ${r.auditWindow.end}\n` : '';
  return `${window}${table(['table', 'files', 'bytes', 'manifests', 'snapshots expired', 'files deleted', 'audit (iceberg/clickhouse)', 'note'], rows)}\n${r.status} in ${duration(r.durationMs)}`;
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
    }
    return r;
  } finally {
    await client.connection.close();
  }
}
