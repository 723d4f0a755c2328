// Scenario 9: the silent partition. The table lock's connection goes through a TCP proxy on loopback that the test
// cuts without closing either side, while the first attempt has written its batch and is about to commit; Postgres
// ends that session (as its TCP keepalive does once a NAT has dropped the flow), releasing the lock. A second
// attempt takes the table and writes its own batch; then the first attempt, which learned nothing, commits. The
// fence in the commit transaction must refuse it: every row once, every referenced file present, the watermark equal
// to what the snapshots say. The first worker's periodic lock check is switched off (COLDTIER_FAULT_LOCK_CHECK=off):
// this is the window before that check fires, where only the fence stands between the attempt and a double commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OffloadWorkflowResult } from '../../src/activities/types';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { bronzeTable } from '../helpers/coldtier';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { attemptFailures, lockSession, offloadArgs, watermarkAndSnapshot } from './fencing-helpers';
import { census, compare, harness, pendingHeartbeats, report, waitFor, type WorkerProcess } from './helpers';

const ROWS = 40_000;

test('faults 9: the lock connection silently cut mid-batch, a second attempt takes over, the first then commits: it is fenced out', async () => {
  const h = await harness({ tables: (tag) => [bronzeTable(`bronze_partition_${tag}`, { batchRows: 10_000, fanOutBatches: 0 })] });
  const table = h.settings.tables[0]!.name;
  const pg = new URL(h.settings.databaseUrl);
  const proxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port) });
  const workers: WorkerProcess[] = [];
  try {
    await createBronzeTable(h.ch, table);
    await insertTrades(h.ch, table, { rows: ROWS, exchange: 'binance', spreadSeconds: 86_400, seed: 31 });
    const viaProxy = new URL(pg);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const first = await h.startWorker('partitioned', { DATABASE_URL: viaProxy.toString(), COLDTIER_FAULT_PAUSE: 'before-commit', COLDTIER_FAULT_TABLE: table, COLDTIER_FAULT_LOCK_CHECK: 'off' });
    workers.push(first);
    const run1 = await h.client.workflow.start('offloadWorkflow', offloadArgs(h.taskQueue, `partition-1-${h.tag}`, table, 30));
    await first.waitFor(new RegExp(`coldtier-fault-point before-commit ${table}`));
    const written = await waitFor('the first attempt\'s heartbeat naming its uploaded batch', async () => ((await pendingHeartbeats(run1)) as { stage?: string; pendingFiles?: string[] }[]).find((d) => d.stage === 'uploaded')?.pendingFiles, 60_000, 200);

    // The partition: the proxy drops the lock connection's flow; the server side ends the session.
    const session = await waitFor('the first attempt\'s lock session', () => lockSession(h, table));
    assert.equal(proxy.cut((c) => c.upstreamPort === session.client_port), 1, 'the lock connection went through the proxy');
    await h.pool.query('SELECT pg_terminate_backend($1)', [session.pid]);
    await waitFor('the lock to be free', async () => !(await lockSession(h, table)), 60_000);

    // The second attempt (another run, on its own task queue so only the second worker runs it) takes the table and
    // stops before its first commit.
    const queue2 = `${h.taskQueue}-2`;
    const second = await h.startWorker('second', { TEMPORAL_TASK_QUEUE: queue2, COLDTIER_FAULT_PAUSE: 'before-commit', COLDTIER_FAULT_TABLE: table });
    workers.push(second);
    const run2 = await h.client.workflow.start('offloadWorkflow', offloadArgs(queue2, `partition-2-${h.tag}`, table, 30));
    await second.waitFor(new RegExp(`coldtier-fault-point before-commit ${table}`));

    // The first attempt goes on and commits. Its watermark compare would pass (nothing is committed yet): the fence must refuse it.
    first.child.kill('SIGWINCH');
    const failures = await waitFor('the first attempt to fail its commit', async () => (await attemptFailures(run1)).find((m) => /fenced out|lost the table lock/.test(m)), 120_000, 200);
    const afterFirst = await watermarkAndSnapshot(h, table);
    assert.equal(afterFirst.snapshots.length, 0, 'the fenced-out attempt committed nothing');
    assert.equal(afterFirst.watermark, null, 'the fenced-out attempt did not move the watermark');

    second.child.kill('SIGWINCH');
    const r2 = (await run2.result()) as OffloadWorkflowResult;
    const r1 = (await run1.result()) as OffloadWorkflowResult;
    assert.equal(r2.status, 'ok', r2.tables[0]!.reason);
    assert.equal(r2.tables[0]!.rows, ROWS, 'the second attempt committed every row');
    assert.equal(r1.status, 'ok', r1.tables[0]!.reason);
    assert.equal(r1.tables[0]!.rows, 0, 'the first run, retried after the fence, found the rows committed');

    const c = await compare(h, table);
    assert.deepEqual(c.cold, c.source, 'Iceberg equals the source');
    assert.equal(c.duplicates, 0);
    const files = await census(h, table);
    assert.deepEqual(files.missing, [], 'every file the metadata references exists');
    assert.deepEqual(files.orphaned, [], 'the fenced-out attempt\'s files were cleaned up');
    for (const f of written) assert.equal(await h.io.exists(f), false, `the fenced-out attempt's ${f} is gone`);
    const end = await watermarkAndSnapshot(h, table);
    assert.deepEqual(end.watermark, end.snapshotTo, 'the watermark is what the current snapshot says it covers');
    assert.equal(end.lastSnapshotId, end.headSnapshotId);
    assert.ok(end.snapshots.every((s) => !s.summary?.['coldtier.offload-id']?.startsWith(`partition-1-${h.tag}/`)), 'no snapshot of the first run');
    report({
      scenario: '9 silent partition of the lock connection',
      faults: `lock connection cut by a loopback proxy (neither side closed) with ${written.length} file(s) uploaded, server session ended; 2nd attempt took the table; 1st then committed → "${failures.replace(/^.*?: /, '').slice(0, 60)}…"`,
      expected: c.source.n,
      found: c.cold.n,
      duplicates: c.duplicates,
      orphaned: files.orphaned.length,
    });
  } catch (err) {
    for (const w of workers) process.stderr.write(`--- worker ${w.identity} (exit ${w.child.exitCode ?? w.child.signalCode ?? 'running'}):\n${w.output()}\n`);
    throw err;
  } finally {
    await h.close();
    await proxy.close();
  }
});
