import { ApplicationFailure, isCancellation, patched, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OffloadTableResult, OffloadWorkflowInput, OffloadWorkflowResult, PlannedTable } from '../activities/types';
import { failureMessage } from './failures';
import { layerWaves } from './plan';
import { COLDTIER_STATUS, COLDTIER_TABLES } from './search-attributes';

const { planOffload } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, initialInterval: '1s' },
});


/** Each table is its own activity, named in the UI, retried with backoff, heartbeating its progress. */
function tableActivities(p: PlannedTable, heartbeatTimeoutSeconds: number, maxAttempts: number) {
  const options = (summary: string) => ({
    summary,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: `${heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: maxAttempts },
  });
  return {
    offloadTable: proxyActivities<Activities>(options(`offload ${p.layer} table ${p.table}`)).offloadTable,
    writeRange: (i: number, n: number) => proxyActivities<Activities>(options(`write ${p.table} catch-up range ${i + 1}/${n}`)).writeRange,
    commitRanges: proxyActivities<Activities>(options(`commit ${p.table} catch-up`)).commitRanges,
    restateTable: proxyActivities<Activities>(options(`restate late windows of ${p.table}`)).restateTable,
  };
}

/**
 * Offloads one table. A large catch-up comes back as a fan-out plan: its key ranges are written by parallel
 * activities (spread over all workers) and committed once, with the watermark, at the end.
 */
async function offloadOne(p: PlannedTable, heartbeatTimeoutSeconds: number, maxAttempts: number): Promise<OffloadTableResult> {
  const acts = tableActivities(p, heartbeatTimeoutSeconds, maxAttempts);
  const first = await acts.offloadTable({ table: p.table, allowFanOut: true });
  let result = first;
  if (first.status === 'fan-out' && first.fanOut) {
    const plan = first.fanOut;
    const parts = await Promise.all(plan.ranges.map((r, i) => acts.writeRange(i, plan.ranges.length)({ table: p.table, lo: r.lo, hi: r.hi })));
    result = await acts.commitRanges({ table: p.table, plan, parts });
  }
  // A rollup whose input got late rows for windows it already holds: those windows are restated (one overwrite).
  if (p.derivedFrom && patched('restate-rollups')) {
    try {
      const r = await acts.restateTable({ table: p.table });
      const skipped = r.skippedWindows ? `${r.skippedWindows} changed windows not restated: ClickHouse no longer holds all their rows of ${p.derivedFrom} (TTL), Iceberg keeps them` : '';
      const reason = [result.reason ?? '', skipped].filter(Boolean).join('; ');
      return { ...result, restatedWindows: r.restatedWindows, ...(r.snapshotId ? { restatedSnapshotId: r.snapshotId } : {}), ...(reason ? { reason } : {}) };
    } catch (err) {
      if (isCancellation(err)) throw err;
      return { ...result, status: 'failed', restatedWindows: 0, reason: `offloaded, but restating late windows failed: ${failureMessage(err)}` };
    }
  }
  return result;
}

const empty = (p: PlannedTable, status: 'skipped' | 'failed', reason: string): OffloadTableResult => ({
  table: p.table, status, rows: 0, files: 0, bytes: 0, snapshotId: null, commits: 0,
  watermarkFrom: null, watermarkTo: null, replayed: false, durationMs: 0, reason,
});

/**
 * One offload cycle: bronze tables in parallel, then silver, then gold in parallel. A failed table does not stop
 * unrelated tables; its dependants are skipped with the reason.
 */
export async function offloadWorkflow(input: OffloadWorkflowInput = {}): Promise<OffloadWorkflowResult> {
  const started = Date.now();
  const plan = await planOffload({ ...(input.tables ? { tables: input.tables } : {}) });
  // Searchable in the Web UI / `temporal workflow list --query`; the worker makes sure the namespace has them.
  upsertSearchAttributes([{ key: COLDTIER_TABLES, value: plan.map((p) => p.table) }, { key: COLDTIER_STATUS, value: 'running' }]);
  const results = new Map<string, OffloadTableResult>();
  for (const wave of layerWaves(plan)) {
    await Promise.all(
      wave.map(async (p) => {
        const broken = p.dependsOn.filter((d) => ['failed', 'skipped'].includes(results.get(d)?.status ?? ''));
        if (p.requireDependencies && broken.length) {
          results.set(p.table, empty(p, 'skipped', `skipped: depends on ${broken.join(', ')} which did not complete`));
          return;
        }
        const skippedDeps = p.requireDependencies ? [] : p.dependsOn.filter((d) => results.get(d)?.status === 'failed');
        try {
          const r = await offloadOne(p, input.heartbeatTimeoutSeconds ?? 120, input.maxAttempts ?? 10);
          results.set(p.table, skippedDeps.length ? { ...r, reason: `ran although ${skippedDeps.join(', ')} failed (its own source is independent)` } : r);
        } catch (err) {
          // A cancelled run ends cancelled, not as a run whose tables failed.
          if (isCancellation(err)) throw err;
          results.set(p.table, empty(p, 'failed', failureMessage(err)));
        }
      }),
    );
  }
  const tables = plan.map((p) => results.get(p.table)!);
  setCurrentDetails(detailsMarkdown(tables));
  const failed = tables.filter((t) => t.status === 'failed').length;
  const out: OffloadWorkflowResult = {
    status: failed === 0 ? 'ok' : failed === tables.length ? 'failed' : 'partial',
    tables,
    rows: tables.reduce((a, t) => a + t.rows, 0),
    durationMs: Date.now() - started,
  };
  upsertSearchAttributes([{ key: COLDTIER_STATUS, value: out.status }]);
  if (out.status === 'failed') {
    throw ApplicationFailure.nonRetryable(
      `offload ${workflowInfo().workflowId}: every table failed: ${tables.map((t) => `${t.table}: ${t.reason}`).join('; ')}`,
      'OffloadFailed',
    );
  }
  return out;
}

/** A count with thousands separators (no Intl: the workflow sandbox keeps to plain code). */
const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
/** The watermark's ingestion time to the second, in UTC ("2026-12-06 02:50:00 UTC"); other key columns are in the result. */
const watermarkTime = (w: string[] | null) => (w?.[0] ? `${w[0].slice(0, 19)} UTC` : '');
const shortNote = (s: string) => (s.length <= 60 ? s : `${s.slice(0, 59)}…`);

/**
 * The run's result as a Markdown table for the Web UI's "current details". Narrow on purpose, so it fits the page at
 * 1440 px (test/ui.test.ts): snapshot ids, full watermark keys and complete notes are in the result JSON beside it.
 * The lag is not shown here: it is measured from the source (`coldtier status`, the lag metric), which a workflow
 * cannot read.
 */
function detailsMarkdown(tables: OffloadTableResult[]): string {
  const note = (t: OffloadTableResult) => [t.restatedWindows ? `restated ${grouped(t.restatedWindows)} windows` : '', t.rowsLost ?? t.reason ?? ''].filter(Boolean).join('; ');
  const rows = tables.map((t) => `| ${t.table} | ${t.status} | ${grouped(t.rows)} | ${grouped(t.files)} | ${watermarkTime(t.watermarkTo)} | ${shortNote(note(t).replace(/[|\n]/g, ' '))} |`);
  return ['| table | status | rows | files | watermark | note |', '|---|---|--:|--:|---|---|', ...rows].join('\n');
}
