import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { OffloadTableResult, OffloadWorkflowResult } from '../activities/types';
import type { Settings } from '../config/settings';
import { tableConfig } from '../config/lookup';
import { connectClient } from '../temporal/connection';
import { duration, num, shorten, table, watermark } from './format';
import { watchProgress } from './progress';

export function offloadWorkflowId(now = new Date()): string {
  return `coldtier-offload-manual-${now.toISOString().replace(/[:.]/g, '-')}`;
}

export interface StartOffloadOptions {
  tables?: string[];
  wait?: boolean;
  json?: boolean;
  workflowId?: string;
  heartbeatTimeoutSeconds?: number;
}

export async function startOffload(settings: Settings, opts: StartOffloadOptions): Promise<OffloadWorkflowResult | null> {
  // An unknown table is refused here, before a workflow is started (it would only fail in its first activity).
  for (const t of opts.tables ?? []) tableConfig(settings, t);
  const client = await connectClient(settings.temporal);
  try {
    const workflowId = opts.workflowId ?? offloadWorkflowId();
    const handle = await client.workflow.start('offloadWorkflow', {
      taskQueue: settings.temporal.taskQueue,
      workflowId,
      args: [{ ...(opts.tables ? { tables: opts.tables } : {}), ...(opts.heartbeatTimeoutSeconds ? { heartbeatTimeoutSeconds: opts.heartbeatTimeoutSeconds } : {}) }],
      staticSummary: `offload ${opts.tables?.length ? opts.tables.join(', ') : `all ${settings.tables.length} tables`} (manual)`,
      staticDetails: `ClickHouse → Iceberg ${settings.catalog.namespace}.* in catalog ${settings.catalog.name}; bronze → silver → gold. The result lists rows, files, snapshot and watermark per table.`,
    });
    if (!opts.wait) {
      // The workflow id is what the operator needs next (Web UI, `temporal workflow show`), with --json too.
      console.log(opts.json ? JSON.stringify({ workflowId, runId: handle.firstExecutionRunId, taskQueue: settings.temporal.taskQueue }, null, 2) : `started offload workflow ${workflowId} on task queue ${settings.temporal.taskQueue}`);
      return null;
    }
    if (!opts.json) console.log(`started offload workflow ${workflowId} on task queue ${settings.temporal.taskQueue}`);
    const started = Date.now();
    let result: OffloadWorkflowResult;
    const progress = watchProgress(client, settings, handle);
    try {
      result = (await handle.result()) as OffloadWorkflowResult;
    } catch (err) {
      // The workflow fails when every table failed: report that as a failed result (exit code 2, like a partial
      // run) with the workflow's one-line reason, which names each table and the fix. Anything else: its cause.
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      if (!(cause instanceof ApplicationFailure && cause.type === 'OffloadFailed')) throw cause instanceof Error ? cause : err;
      console.error(`coldtier: ${cause.message}`);
      const names = opts.tables?.length ? opts.tables : settings.tables.map((t) => t.name);
      result = { status: 'failed', tables: failedTables(cause.message, names), rows: 0, durationMs: Date.now() - started };
    } finally {
      await progress.stop();
    }
    console.log(opts.json ? JSON.stringify(result, null, 2) : formatOffload(result));
    return result;
  } finally {
    await client.connection.close();
  }
}

/**
 * The per-table results of a run in which every table failed, from the workflow's message
 * `offload <id>: every table failed: <table>: <reason>; <table>: <reason>` (tables in plan order).
 * Empty when the message does not list exactly these tables.
 */
export function failedTables(message: string, names: string[]): OffloadTableResult[] {
  const marker = ': every table failed: ';
  const at = message.indexOf(marker);
  if (at < 0) return [];
  let rest = message.slice(at + marker.length);
  const out: OffloadTableResult[] = [];
  for (const [i, table] of names.entries()) {
    if (!rest.startsWith(`${table}: `)) return [];
    rest = rest.slice(table.length + 2);
    const next = names[i + 1];
    const end = next === undefined ? rest.length : rest.indexOf(`; ${next}: `);
    if (end < 0) return [];
    out.push({
      table, status: 'failed', rows: 0, files: 0, bytes: 0, snapshotId: null, commits: 0,
      watermarkFrom: null, watermarkTo: null, replayed: false, durationMs: 0, reason: rest.slice(0, end),
    });
    rest = rest.slice(end + 2);
  }
  return out;
}

export function formatOffload(r: OffloadWorkflowResult): string {
  const rows = r.tables.map((t) => [t.table, t.status, t.rows, t.files, t.bytes, t.snapshotId, watermark(t.watermarkTo), duration(t.durationMs), shorten(t.rowsLost ?? t.reason ?? (t.replayed ? 'replayed earlier commit' : ''))]);
  // Reasons are shortened in the table; the complete reason of each table whose reason did not fit follows it.
  const full = r.tables.filter((t) => t.reason && shorten(t.reason) !== t.reason).map((t) => `${t.table}: ${t.reason}`);
  // Rows lost to the ClickHouse TTL are never shortened away: the whole sentence, and the run is not reported as a plain success.
  const lost = r.tables.filter((t) => t.rowsLost).map((t) => t.rowsLost!);
  return `${table(['table', 'status', 'rows', 'files', 'bytes', 'snapshot', 'new watermark', 'took', 'note'], rows)}${full.length ? `\n\n${full.join('\n')}` : ''}${lost.length ? `\n\n${lost.join('\n')}` : ''}\n${r.status}${lost.length ? ' (ROWS LOST, see above)' : ''}: ${num(r.rows)} rows in ${duration(r.durationMs)}`;
}
