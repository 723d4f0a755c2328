import type { OffloadWorkflowResult } from '../activities/types';
import type { Settings } from '../config/settings';
import { tableConfig } from '../config/lookup';
import { connectClient } from '../temporal/connection';
import { duration, table, watermark } from './format';

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
    if (!opts.json) console.log(`started offload workflow ${workflowId} on task queue ${settings.temporal.taskQueue}`);
    if (!opts.wait) return null;
    const result = (await handle.result()) as OffloadWorkflowResult;
    console.log(opts.json ? JSON.stringify(result, null, 2) : formatOffload(result));
    return result;
  } finally {
    await client.connection.close();
  }
}

export function formatOffload(r: OffloadWorkflowResult): string {
  const rows = r.tables.map((t) => [t.table, t.status, t.rows, t.files, t.bytes, t.snapshotId, watermark(t.watermarkTo), duration(t.durationMs), t.reason ?? (t.replayed ? 'replayed earlier commit' : '')]);
  return `${table(['table', 'status', 'rows', 'files', 'bytes', 'snapshot', 'new watermark', 'took', 'note'], rows)}\n${r.status}: ${r.rows} rows in ${duration(r.durationMs)}`;
}
