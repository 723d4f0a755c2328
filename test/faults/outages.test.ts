// Scenario 3: the services a worker depends on go away in the middle of the work. ClickHouse (the chDB gateway) is
// down for a whole cycle; Postgres restarts in the middle of an offload; MinIO is stopped for a minute in the middle
// of an offload. Postgres and MinIO are a private stack started here (the shared test stack is never touched). One
// worker process lives through all of it; the cycle after each recovery must be exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import type { OffloadWorkflowResult } from '../../src/activities/types';
import { startChdbGateway } from '../../src/clickhouse/chdb-gateway';
import { readWatermark } from '../../src/db/watermarks';
import { startStack } from '../../src/devstack/index';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { bronzeTable, suffix } from '../helpers/coldtier';
import { stackDir, uniqueName } from '../helpers/stack';
import { activityAttempts, census, compare, harness, report, sleep, waitFor, type Harness } from './helpers';

const OUTAGE_SECONDS = Number(process.env.COLDTIER_FAULT_OUTAGE_SECONDS ?? 60);
const ROWS = 300_000;
const BATCH = 20_000;

/** Waits until the first batch of `table` is committed and returns how many rows were committed by then. */
async function firstCommit(h: Harness, table: string): Promise<number> {
  return waitFor(`the first commit of ${table}`, async () => Number((await readWatermark(h.pool, h.id(table)))?.rowsOffloaded ?? 0), 120_000, 25);
}

async function exactLine(h: Harness, table: string, scenario: string, faults: string) {
  const c = await compare(h, table);
  assert.deepEqual(c.cold, c.source, `${scenario}: Iceberg equals the source`);
  assert.equal(c.duplicates, 0);
  const files = await census(h, table);
  assert.deepEqual(files.missing, []);
  report({ scenario, faults, expected: c.source.n, found: c.cold.n, duplicates: c.duplicates, orphaned: files.orphaned.length });
}

test('faults 3: ClickHouse down for a cycle, Postgres restarted and MinIO stopped mid-offload; the cycle after recovery is exact', async () => {
  const dir = join(stackDir(), uniqueName('faults_outage'));
  const stack = await startStack({ dir, postgres: true, minio: { bucket: 'faults-outage' } });
  const { postgres, minio } = stack;
  assert.ok(postgres && minio);
  let h: Harness | undefined;
  try {
    const databaseUrl = await postgres.createDatabase(`outage_${suffix()}`);
    h = await harness({
      tables: (tag) => ['ch', 'pg', 's3'].map((what) => bronzeTable(`bronze_${what}_down_${tag}`, { batchRows: BATCH, fanOutBatches: 0 })),
      override: (s) => {
        s.databaseUrl = databaseUrl;
        s.s3 = { ...s.s3, endpoint: minio.endpoint, region: minio.region, accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey };
        s.warehouse = `s3://${minio.bucket}/w`;
      },
    });
    const [chTable, pgTable, s3Table] = h.settings.tables.map((t) => t.name) as [string, string, string];
    for (const t of [chTable, pgTable, s3Table]) await createBronzeTable(h.ch, t);
    const worker = await h.startWorker('survivor');
    const offload = (id: string, table: string, extra: object = {}) =>
      h!.client.workflow.start('offloadWorkflow', { taskQueue: h!.taskQueue, workflowId: `${id}-${h!.tag}`, args: [{ tables: [table], heartbeatTimeoutSeconds: 10, ...extra }] });

    // 1. ClickHouse unreachable for one cycle: the table fails with a message naming ClickHouse and the setting;
    //    nothing is written; the next cycle, with the gateway back on the same port, catches up exactly.
    await insertTrades(h.ch, chTable, { rows: 20_000, exchange: 'binance', seed: 1 });
    await (await offload('ch-before', chTable)).result();
    await insertTrades(h.ch, chTable, { rows: 30_000, exchange: 'binance', seed: 2 });
    const wmBefore = await readWatermark(h.pool, h.id(chTable));
    const snapshotsBefore = (await census(h, chTable)).snapshots;
    const port = Number(new URL(h.gateway.url).port);
    await h.gateway.close();
    const down = await offload('ch-down', chTable, { maxAttempts: 3 });
    await assert.rejects(down.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const msg = String(err.cause?.message);
      assert.match(msg, new RegExp(`${chTable}: cannot reach ClickHouse at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED[^)]*\\); check CLICKHOUSE_URL`));
      return true;
    });
    assert.equal((await activityAttempts(down)).get('offloadTable'), 3, 'retried with backoff, then failed the table');
    assert.deepEqual((await readWatermark(h.pool, h.id(chTable)))?.values, wmBefore?.values, 'watermark unchanged');
    assert.equal((await census(h, chTable)).snapshots, snapshotsBefore, 'no snapshot');
    h.gateway = await startChdbGateway({ path: h.env.chdbPath, port });
    const caughtUp = (await (await offload('ch-after', chTable)).result()) as OffloadWorkflowResult;
    assert.equal(caughtUp.tables[0]!.rows, 30_000);
    await exactLine(h, chTable, '3 ClickHouse down one cycle', 'chDB gateway stopped for a cycle (3 attempts, failed), restarted on the same port');

    // 2. Postgres restarted in the middle of an offload: the lock session and pooled connections die; the attempt
    //    that lost its lock commits nothing, the retry continues from what was committed.
    await insertTrades(h.ch, pgTable, { rows: ROWS, exchange: 'kraken', spreadSeconds: 2 * 86_400, seed: 3 });
    const pgRun = await offload('pg-restart', pgTable);
    const pgAt = await firstCommit(h, pgTable);
    await postgres.restart();
    assert.ok(pgAt < ROWS, `restarted mid-offload (after ${pgAt} rows)`);
    const pgResult = (await pgRun.result()) as OffloadWorkflowResult;
    assert.equal(pgResult.status, 'ok', pgResult.tables[0]!.reason);
    assert.equal(pgResult.tables[0]!.rows, ROWS);
    assert.ok((await activityAttempts(pgRun)).get('offloadTable')! >= 2, 'the activity was retried');
    await exactLine(h, pgTable, '3 Postgres restart mid-offload', `Postgres restarted after ${pgAt} of ${ROWS} rows`);

    // 3. MinIO stopped for a minute in the middle of an offload: uploads and metadata reads fail, the activity
    //    retries with backoff (2 s, 4 s, 8 s … 1 min) and finishes once MinIO is back.
    await insertTrades(h.ch, s3Table, { rows: ROWS, exchange: 'coinbase', spreadSeconds: 2 * 86_400, seed: 4 });
    const s3Run = await offload('s3-outage', s3Table);
    const s3At = await firstCommit(h, s3Table);
    await minio.stop();
    assert.ok(s3At < ROWS, `stopped mid-offload (after ${s3At} rows)`);
    await sleep(OUTAGE_SECONDS * 1000);
    await minio.start();
    const s3Result = (await s3Run.result()) as OffloadWorkflowResult;
    assert.equal(s3Result.status, 'ok', s3Result.tables[0]!.reason);
    assert.equal(s3Result.tables[0]!.rows, ROWS);
    assert.ok((await activityAttempts(s3Run)).get('offloadTable')! >= 3, 'the activity retried during the outage');
    await exactLine(h, s3Table, '3 MinIO stopped mid-offload', `MinIO stopped for ${OUTAGE_SECONDS} s after ${s3At} of ${ROWS} rows`);
    assert.equal(worker.child.exitCode, null, 'the worker process lived through every outage');
  } finally {
    await h?.close();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
