// Scenario 1: the worker process is SIGKILLed in the middle of a large bronze offload, at each fault point of the
// offload activity; another worker process takes over. Rows must be exact, with no duplicates, and the files the
// dead attempt uploaded but never committed must be cleaned by the retry, or be found by the orphan sweep (a file
// no heartbeat named, or a multipart upload cut off mid-way).
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OffloadWorkflowResult } from '../../src/activities/types';
import { readWatermark } from '../../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { bronzeTable } from '../helpers/coldtier';
import { activityAttempts, census, compare, harness, pendingHeartbeats, report, waitFor } from './helpers';

/** Where the worker dies: a fault point of the offload activity; "multipart" is the uploading point on a file big enough for parts. */
const POINTS = ['reading', 'uploading', 'multipart', 'before-commit', 'after-commit'] as const;
const ROWS = Number(process.env.COLDTIER_FAULT_ROWS ?? 200_000);
const BATCH = 25_000;
/** One batch of this many rows in one partition: a ~10 MB file, above the 5 MiB multipart threshold the worker gets. */
const MULTIPART_ROWS = 450_000;
const tableOf = (point: string, tag: string) => `bronze_kill_${point.replace('-', '_')}_${tag}`;

test('faults 1: a worker SIGKILLed while reading, uploading, before and after a commit; a new worker finishes exactly', async () => {
  const h = await harness({ tables: (tag) => POINTS.map((p) => bronzeTable(tableOf(p, tag), { batchRows: p === 'multipart' ? MULTIPART_ROWS : BATCH, fanOutBatches: 0 })) });
  try {
    for (const point of POINTS) {
      const table = tableOf(point, h.tag);
      const multipart = point === 'multipart';
      const rows = multipart ? MULTIPART_ROWS : ROWS;
      await createBronzeTable(h.ch, table);
      // The multipart table's rows sit in one day partition (event times in the last hour of a past day): one big file.
      await insertTrades(h.ch, table, multipart
        ? { rows, exchange: 'binance', spreadSeconds: 3_000, seed: 11, eventTimeEnd: new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 60_000) }
        : { rows, exchange: 'binance', spreadSeconds: 3 * 86_400, seed: 11 });

      const faulty = await h.startWorker(`faulty-${point}`, { COLDTIER_FAULT_PAUSE: multipart ? 'uploading' : point, COLDTIER_FAULT_TABLE: table, ...(multipart ? { S3_MULTIPART_THRESHOLD_MB: '5' } : {}) });
      const run = await h.client.workflow.start('offloadWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `kill-${point}-${h.tag}`,
        args: [{ tables: [table], heartbeatTimeoutSeconds: 5 }],
      });
      await faulty.waitFor(new RegExp(`coldtier-fault-point ${multipart ? 'uploading' : point} ${table}`));
      const dataDir = `${h.settings.warehouse}/${h.settings.catalog.namespace}/${table}/data`;
      let reported = 0;
      if (point === 'multipart') {
        // Killed as soon as the multipart upload of the first file has started, while its parts are going up: what is
        // left is an unfinished upload (no object), or, if the upload won the race, a file the heartbeat named.
        const [uri] = await waitFor('the heartbeat naming the in-flight file', async () => ((await pendingHeartbeats(run)) as { pendingFiles?: string[] }[]).find((x) => x.pendingFiles?.length)?.pendingFiles, 30_000, 20);
        const { bucket, key } = { bucket: uri!.split('/')[2]!, key: uri!.split('/').slice(3).join('/') };
        const s3 = h.settings.s3;
        const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId!, secretAccessKey: s3.secretAccessKey! } });
        await waitFor('the multipart upload to start', async () => (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads?.length || (await h.io.exists(uri!)), 30_000, 0);
        await faulty.kill('SIGKILL');
        client.destroy();
      } else if (point === 'before-commit' || point === 'uploading') {
        // The retry can only clean what the dead attempt reported: wait until its heartbeat naming the files (sent
        // before each upload starts) has reached the server, as it would for any attempt that dies after a moment.
        // (Before the commit that is the heartbeat of the "uploaded" stage, naming every file of the batch.)
        const files = await waitFor('the heartbeat naming the files', async () => {
          const d = (await pendingHeartbeats(run)) as { stage?: string; pendingFiles?: string[] }[];
          return d.find((x) => x.pendingFiles?.length && (point === 'uploading' || x.stage === 'uploaded'))?.pendingFiles;
        }, 30_000, 200);
        reported = files.length;
      }
      if (point === 'uploading') {
        // Let the in-flight upload land: a complete file that is not committed.
        await waitFor('the in-flight upload to land', async () => (await h.io.list(dataDir)).some((f) => f.uri.endsWith('.parquet')), 30_000);
      }
      const atKill = await readWatermark(h.pool, h.id(table));
      if (point !== 'multipart') await faulty.kill('SIGKILL');
      // An unfinished multipart upload is invisible to a listing; the orphan sweep aborts it (abortStaleUploads).
      const unfinished = multipart ? await h.io.abortStaleUploads(dataDir, new Date(Date.now() + 60_000), true) : [];
      if (point === 'after-commit') assert.equal(atKill?.rowsOffloaded, String(BATCH), 'killed right after the first commit');
      else assert.equal(atKill, null, 'killed before any commit');

      const recovery = await h.startWorker(`recovery-${point}`);
      const result = (await run.result()) as OffloadWorkflowResult;
      await recovery.kill('SIGTERM');
      const t = result.tables[0]!;
      assert.equal(result.status, 'ok', t.reason);
      assert.equal(t.status, 'committed');
      assert.equal(t.rows, rows, 'the retried activity reports every row once, its predecessor\'s commits included');
      assert.ok((await activityAttempts(run)).get('offloadTable')! >= 2, 'the activity was retried');

      const c = await compare(h, table);
      assert.deepEqual(c.cold, c.source, `${point}: Iceberg equals the source`);
      assert.equal(c.duplicates, 0);
      const files = await census(h, table);
      assert.deepEqual(files.missing, [], 'every file the metadata references exists');
      if (point === 'before-commit' || point === 'uploading') {
        assert.equal(t.cleanedFiles, reported, 'the retry deleted every file its dead predecessor uploaded (named in its heartbeat)');
        assert.ok(reported > 0);
      }
      if (point === 'after-commit') assert.equal(t.replayed, true, 'the retry found the commit of the dead attempt');
      if (point === 'multipart') {
        // Exactly one leftover, and the orphan sweep's listings find it: the cut-off upload, or the unnamed file.
        assert.equal(unfinished.length + files.orphaned.length + (t.cleanedFiles ?? 0), 1, `one leftover: unfinished uploads ${unfinished.join(', ')}; orphan files ${files.orphaned.join(', ')}; cleaned ${t.cleanedFiles}`);
        await h.io.abortStaleUploads(dataDir, new Date(Date.now() + 60_000));
      } else assert.deepEqual(files.orphaned, []);
      const batches = Math.ceil(rows / (multipart ? MULTIPART_ROWS : BATCH));
      report({
        scenario: `1 worker SIGKILL @${point}`,
        faults: `SIGKILL at ${multipart ? 'uploading (multipart, 5 MiB threshold)' : point} of batch 1/${batches}, new worker${t.cleanedFiles ? `; retry cleaned ${t.cleanedFiles} file(s)` : ''}${multipart ? `; unfinished multipart uploads for the sweep: ${unfinished.length}` : ''}`,
        expected: c.source.n,
        found: c.cold.n,
        duplicates: c.duplicates,
        orphaned: files.orphaned.length + unfinished.length,
      });
    }
  } finally {
    await h.close();
  }
});
