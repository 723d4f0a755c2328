// Scenario 1: the worker process is SIGKILLed in the middle of a large bronze offload, at each fault point of the
// offload activity; another worker process takes over. Rows must be exact, with no duplicates, and the files the
// dead attempt uploaded but never committed must be cleaned by the retry (or at least show up as orphan candidates).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OffloadWorkflowResult } from '../../src/activities/types';
import { readWatermark } from '../../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { bronzeTable } from '../helpers/coldtier';
import { activityAttempts, census, compare, harness, pendingHeartbeats, report, waitFor } from './helpers';

const POINTS = ['reading', 'uploading', 'before-commit', 'after-commit'] as const;
const ROWS = Number(process.env.COLDTIER_FAULT_ROWS ?? 200_000);
const BATCH = 25_000;
const tableOf = (point: string, tag: string) => `bronze_kill_${point.replace('-', '_')}_${tag}`;

test('faults 1: a worker SIGKILLed while reading, uploading, before and after a commit; a new worker finishes exactly', async () => {
  const h = await harness({ tables: (tag) => POINTS.map((p) => bronzeTable(tableOf(p, tag), { batchRows: BATCH, fanOutBatches: 0 })) });
  try {
    for (const point of POINTS) {
      const table = tableOf(point, h.tag);
      await createBronzeTable(h.ch, table);
      await insertTrades(h.ch, table, { rows: ROWS, exchange: 'binance', spreadSeconds: 3 * 86_400, seed: 11 });

      const faulty = await h.startWorker(`faulty-${point}`, { COLDTIER_FAULT_PAUSE: point, COLDTIER_FAULT_TABLE: table });
      const run = await h.client.workflow.start('offloadWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `kill-${point}-${h.tag}`,
        args: [{ tables: [table], heartbeatTimeoutSeconds: 5 }],
      });
      await faulty.waitFor(new RegExp(`coldtier-fault-point ${point} ${table}`));
      let reported = 0;
      if (point === 'before-commit') {
        // The retry can only clean what the dead attempt reported: wait until its (throttled) heartbeat naming the
        // uploaded files has reached the server, as it would for any attempt that dies later than a few seconds.
        const files = await waitFor('the heartbeat with the uploaded files', async () => {
          const d = (await pendingHeartbeats(run)) as { pendingFiles?: string[] }[];
          return d.find((x) => x.pendingFiles?.length)?.pendingFiles;
        }, 30_000, 200);
        reported = files.length;
      }
      if (point === 'uploading') {
        // Let the in-flight upload land: the worst case, a complete file that no heartbeat has named yet.
        await waitFor('the in-flight upload to land', async () => (await h.io.list(`${h.settings.warehouse}/${h.settings.catalog.namespace}/${table}/data`)).some((f) => f.uri.endsWith('.parquet')), 30_000);
      }
      const atKill = await readWatermark(h.pool, h.id(table));
      await faulty.kill('SIGKILL');
      if (point === 'after-commit') assert.equal(atKill?.rowsOffloaded, String(BATCH), 'killed right after the first commit');
      else assert.equal(atKill, null, 'killed before any commit');

      const recovery = await h.startWorker(`recovery-${point}`);
      const result = (await run.result()) as OffloadWorkflowResult;
      await recovery.kill('SIGTERM');
      const t = result.tables[0]!;
      assert.equal(result.status, 'ok', t.reason);
      assert.equal(t.status, 'committed');
      assert.equal(t.rows, ROWS, 'the retried activity reports every row once, its predecessor\'s commits included');
      assert.ok((await activityAttempts(run)).get('offloadTable')! >= 2, 'the activity was retried');

      const c = await compare(h, table);
      assert.deepEqual(c.cold, c.source, `${point}: Iceberg equals the source`);
      assert.equal(c.duplicates, 0);
      const files = await census(h, table);
      assert.deepEqual(files.missing, [], 'every file the metadata references exists');
      if (point === 'before-commit') {
        assert.equal(t.cleanedFiles, reported, 'the retry deleted every file its dead predecessor uploaded');
        assert.ok(reported > 0);
      }
      if (point === 'after-commit') assert.equal(t.replayed, true, 'the retry found the commit of the dead attempt');
      // "uploading": the first file was uploaded before any heartbeat named it, so the retry cannot know it: it is
      // left as an orphan candidate for the orphan sweep (once older than --orphan-min-age-hours). Nothing else is.
      if (point === 'uploading') assert.equal(files.orphaned.length, 1, `only the in-flight file is left: ${files.orphaned.join(', ')}`);
      else assert.deepEqual(files.orphaned, []);
      report({
        scenario: `1 worker SIGKILL @${point}`,
        faults: `SIGKILL at ${point} of batch 1/${ROWS / BATCH}, new worker${point === 'before-commit' ? `; retry cleaned ${t.cleanedFiles} file(s)` : ''}`,
        expected: c.source.n,
        found: c.cold.n,
        duplicates: c.duplicates,
        orphaned: files.orphaned.length,
      });
    }
  } finally {
    await h.close();
  }
});
