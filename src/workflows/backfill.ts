import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { BackfillTableResult, BackfillWorkflowInput } from '../activities/types';

/** Re-offloads one table's event-time window (backfill, or repair of the hours an audit found missing). */
export async function backfillWorkflow(input: BackfillWorkflowInput): Promise<BackfillTableResult> {
  const { backfillTable, dedupeTable } = proxyActivities<Activities>({
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
  return result;
}
