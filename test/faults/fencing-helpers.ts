// Helpers of the fencing scenarios (silent partition, zombie, fan-out commit race, cancel): the table lock's Postgres
// session as an operator would find it, the watermark against the snapshots, and the failures Temporal recorded.
import type { WorkflowHandle } from '@temporalio/client';
import { loadTable } from '../../src/iceberg';
import { readWatermark } from '../../src/db/watermarks';
import type { Harness } from './helpers';

/** The Postgres session holding the table's lock (application_name "coldtier lock <purpose> <ns>.<table>"), if any. */
export async function lockSession(h: Pick<Harness, 'pool' | 'settings'>, table: string, purpose = 'offload'): Promise<{ pid: number; client_port: number } | undefined> {
  const name = `coldtier lock ${purpose} ${h.settings.catalog.namespace}.${table}`.slice(0, 63);
  const res = await h.pool.query<{ pid: number; client_port: number }>('SELECT pid, client_port FROM pg_stat_activity WHERE application_name = $1', [name]);
  return res.rows[0];
}

/** The stored watermark and row count next to what the current snapshot says it covers. */
export async function watermarkAndSnapshot(h: Pick<Harness, 'pool' | 'io' | 'id'>, table: string) {
  const wm = await readWatermark(h.pool, h.id(table));
  const t = await loadTable(h.pool, h.io, h.id(table));
  const head = t?.metadata.snapshots.find((s) => s['snapshot-id'] === t.metadata['current-snapshot-id']);
  return {
    watermark: wm?.values ?? null,
    snapshotTo: head?.summary?.['coldtier.watermark-to'] ? (JSON.parse(head.summary['coldtier.watermark-to']) as string[]) : null,
    lastSnapshotId: wm?.lastSnapshotId ?? null,
    headSnapshotId: head ? head['snapshot-id'].toString() : null,
    snapshots: t?.metadata.snapshots ?? [],
  };
}

/** Failure messages of the workflow's activity attempts: the pending ones' last failures and those the history kept. */
export async function attemptFailures(handle: WorkflowHandle): Promise<string[]> {
  const out: string[] = [];
  const d = await handle.describe();
  for (const a of d.raw.pendingActivities ?? []) if (a.lastFailure?.message) out.push(a.lastFailure.message);
  for (const e of (await handle.fetchHistory()).events ?? []) {
    const f = e.activityTaskStartedEventAttributes?.lastFailure ?? e.activityTaskFailedEventAttributes?.failure;
    if (f?.message) out.push(f.message);
  }
  return out;
}

/** The offload workflow's start options for `table` on `taskQueue`. */
export const offloadArgs = (taskQueue: string, workflowId: string, table: string, heartbeatTimeoutSeconds: number) => ({
  taskQueue,
  workflowId,
  args: [{ tables: [table], heartbeatTimeoutSeconds }],
});
