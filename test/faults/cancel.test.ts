// Scenario 11: a cancelled offload. While the offload activity waits on a slow ClickHouse query (COLDTIER_FAULT_SLOW:
// a real query that sleeps), the run is cancelled from the CLI (`temporal workflow cancel`). The cancellation reaches
// the activity on its next heartbeat (they keep flowing while it waits); the activity aborts the query and returns,
// which ends its table lock session. The table stays readable at the last commit, and the next run finishes the job.
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OffloadWorkflowResult } from '../../src/activities/types';
import { readWatermark } from '../../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { bronzeTable } from '../helpers/coldtier';
import { lockSession, offloadArgs, watermarkAndSnapshot } from './fencing-helpers';
import { census, compare, harness, report, waitFor } from './helpers';

const ROWS = 30_000;
const SLOW_QUERY_SECONDS = 30;

function temporalCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('temporal', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

test('faults 11: an offload cancelled from the CLI stops its activity and releases the table lock within seconds; the table stays readable', async () => {
  const h = await harness({ tables: (tag) => [bronzeTable(`bronze_cancel_${tag}`, { batchRows: 10_000, fanOutBatches: 0 })] });
  const table = h.settings.tables[0]!.name;
  try {
    await createBronzeTable(h.ch, table);
    await insertTrades(h.ch, table, { rows: ROWS, exchange: 'binance', spreadSeconds: 86_400, seed: 51 });
    // The slow query comes before the second batch's read: the first batch is committed by then.
    const worker = await h.startWorker('cancelled', { COLDTIER_FAULT_SLOW: `reading:${SLOW_QUERY_SECONDS}`, COLDTIER_FAULT_SKIP: '1', COLDTIER_FAULT_TABLE: table });
    const workflowId = `cancel-${h.tag}`;
    const run = await h.client.workflow.start('offloadWorkflow', offloadArgs(h.taskQueue, workflowId, table, 120));
    await worker.waitFor(new RegExp(`coldtier-fault-point reading ${table} slow query`));
    assert.ok(await lockSession(h, table), 'the activity holds the table lock while it waits');

    const cancelledAt = Date.now();
    const cli = await temporalCli(['workflow', 'cancel', '--workflow-id', workflowId, '--address', h.settings.temporal.address, '--namespace', h.settings.temporal.namespace]);
    assert.equal(cli.code, 0, cli.out);
    await waitFor('the table lock to be released', async () => !(await lockSession(h, table)), 120_000, 50);
    const releasedMs = Date.now() - cancelledAt;
    await waitFor('the run to close', async () => (await run.describe()).status.name !== 'RUNNING', 120_000, 50);
    const closedMs = Date.now() - cancelledAt;
    assert.equal((await run.describe()).status.name, 'CANCELLED');
    await worker.waitFor(/attempt stopped/, 60_000);
    assert.ok(!worker.output().includes('slow query returned'), 'the ClickHouse query was aborted, not waited for');

    // Readable at the last commit: what the watermark covers, once, every referenced file present.
    const wm = await readWatermark(h.pool, h.id(table));
    assert.ok(wm, 'the first batch was committed before the cancel');
    const mid = await census(h, table);
    assert.deepEqual(mid.missing, []);
    const partial = await compare(h, table);
    assert.equal(partial.cold.n, wm.rowsOffloaded, 'Iceberg holds exactly what the watermark covers');
    assert.equal(partial.duplicates, 0);

    // The next run finishes the job.
    const next = (await (await h.client.workflow.start('offloadWorkflow', offloadArgs(h.taskQueue, `${workflowId}-next`, table, 120))).result()) as OffloadWorkflowResult;
    assert.equal(next.status, 'ok', next.tables[0]!.reason);
    const c = await compare(h, table);
    assert.deepEqual(c.cold, c.source);
    assert.equal(c.duplicates, 0);
    const files = await census(h, table);
    assert.deepEqual(files.missing, []);
    const end = await watermarkAndSnapshot(h, table);
    assert.deepEqual(end.watermark, end.snapshotTo);
    report({
      scenario: '11 offload cancelled from the CLI',
      faults: `temporal workflow cancel during a ${SLOW_QUERY_SECONDS} s ClickHouse query (batch 2/${ROWS / 10_000}); query aborted, lock released ${(releasedMs / 1000).toFixed(1)} s and run CANCELLED ${(closedMs / 1000).toFixed(1)} s after the cancel; ${partial.cold.n} rows readable, next run finished`,
      expected: c.source.n,
      found: c.cold.n,
      duplicates: c.duplicates,
      orphaned: files.orphaned.length,
    });
  } finally {
    await h.close();
  }
});
