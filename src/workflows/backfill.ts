import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { BackfillTableResult, BackfillWorkflowInput } from '../activities/types';

/** Re-offloads one table's event-time window (backfill, or repair of the hours an audit found missing). */
export async function backfillWorkflow(input: BackfillWorkflowInput): Promise<BackfillTableResult> {
  const { backfillTable, dedupeTable, restateWindow } = proxyActivities<Activities>({
    summary: `${input.reason ?? 'backfill'} ${input.table} ${input.from}/${input.to}`,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '5 minutes',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 5 },
  });
  const result = await backfillTable(input);
  // A repair also removes the rows the audit reports as duplicate_data (one `delete` commit; nothing when none).
  if (input.reason === 'repair' && patched('repair-removes-duplicates')) {
    result.duplicates = await dedupeTable({ table: input.table, from: input.from, to: input.to });
  }
  // Rollups: windows whose values differ from the source (late rows restated nowhere else) are restated too.
  if (!patched('restate-rollup-repair')) return result;
  const r = await restateWindow(input);
  if (r.status === 'not-a-rollup') return result;
  return { ...result, restatedWindows: r.restatedWindows, restated: r.windows, ...(r.snapshotId ? { restatedSnapshotId: r.snapshotId } : {}), ...(r.skippedWindows ? { restateSkippedWindows: r.skippedWindows, restateSkipped: r.skipped } : {}) };
}
