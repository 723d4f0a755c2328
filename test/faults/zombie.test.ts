// Scenario 10: zombies. An attempt's process freezes (COLDTIER_FAULT_STALL: the event loop blocked, no heartbeats)
// past its heartbeat timeout while it holds the table lock: Temporal retries the activity on another worker, which
// takes the lock over from the timed-out attempt (ending its lock session; the fencing epoch moves on) instead of
// spending its attempts on TableBusyError. The zombie then wakes and must commit nothing, and delete nothing the retry
// committed. (a) an offload frozen in its batch read; (b) the commit of a fanned-out catch-up (commitRanges) frozen
// just before it commits files that its retry then commits: two attempts of one fan-out racing to commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OffloadWorkflowResult } from '../../src/activities/types';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { bronzeTable } from '../helpers/coldtier';
import { watermarkAndSnapshot, offloadArgs } from './fencing-helpers';
import { activityAttempts, census, compare, harness, report, type WorkerProcess } from './helpers';

const ROWS = 40_000;
/**
 * Long enough for the retry to finish on a busy 2-core machine (the test waits on events, not on this). The frozen
 * worker's Temporal core keeps polling in its own threads and takes up to its 4 activity slots' worth of retries,
 * each of which times out in turn, before a retry reaches the other worker.
 */
const STALL_SECONDS = 120;
const STOPPED = /attempt stopped|fenced out|lost the table lock/;

async function scenario(kind: 'offload' | 'fan-out'): Promise<void> {
  const fanOut = kind === 'fan-out';
  const point = fanOut ? 'commit-ranges-before-commit' : 'reading';
  const h = await harness({ tables: (tag) => [bronzeTable(`bronze_zombie_${fanOut ? 'fan' : 'off'}_${tag}`, { batchRows: 10_000, fanOutBatches: fanOut ? 2 : 0 })] });
  const table = h.settings.tables[0]!.name;
  const workers: WorkerProcess[] = [];
  try {
    await createBronzeTable(h.ch, table);
    await insertTrades(h.ch, table, { rows: ROWS, exchange: 'binance', spreadSeconds: 86_400, seed: fanOut ? 42 : 41 });
    // Only the zombie-to-be polls at first, so the attempt that freezes is the first one.
    const zombie = await h.startWorker(`zombie-${kind}`, { COLDTIER_FAULT_STALL: `${point}:${STALL_SECONDS}`, COLDTIER_FAULT_TABLE: table });
    workers.push(zombie);
    const run = await h.client.workflow.start('offloadWorkflow', offloadArgs(h.taskQueue, `zombie-${kind}-${h.tag}`, table, 5));
    await zombie.waitFor(new RegExp(`coldtier-fault-point ${point} ${table} stalling`));
    const frozenAt = Date.now();
    workers.push(await h.startWorker(`retry-${kind}`));
    const result = (await run.result()) as OffloadWorkflowResult;
    const retried = Date.now() - frozenAt;
    const t = result.tables[0]!;
    assert.equal(result.status, 'ok', t.reason);
    assert.equal(t.status, 'committed', 'the table is reported committed, not failed');
    assert.equal(t.rows, ROWS);
    const attempts = (await activityAttempts(run)).get(fanOut ? 'commitRanges' : 'offloadTable') ?? 1;
    assert.ok(attempts >= 2, 'the frozen attempt was retried');
    const committed = await census(h, table);
    assert.ok(!zombie.output().includes(`${point} ${table} woke`), 'the retry committed while the zombie was still frozen');

    // The zombie wakes, still believing it holds the lock, and carries on.
    await zombie.waitFor(new RegExp(`coldtier-fault-point ${point} ${table} woke`), (STALL_SECONDS + 120) * 1000);
    const stopped = await zombie.waitFor(STOPPED, 120_000);

    const c = await compare(h, table);
    assert.deepEqual(c.cold, c.source, 'Iceberg equals the source');
    assert.equal(c.duplicates, 0);
    const files = await census(h, table);
    assert.deepEqual(files.missing, [], 'every file the metadata references exists: the zombie deleted nothing committed');
    assert.deepEqual(files.orphaned, []);
    assert.equal(files.snapshots, committed.snapshots, 'the zombie committed nothing');
    const end = await watermarkAndSnapshot(h, table);
    assert.deepEqual(end.watermark, end.snapshotTo, 'the watermark is what the current snapshot says it covers');
    report({
      scenario: `10 zombie ${fanOut ? 'fan-out commit (two commitRanges attempts race)' : 'offload frozen in its batch read'}`,
      faults: `process frozen ${STALL_SECONDS} s at ${point}, heartbeat timeout 5 s; retry (attempt ${attempts}) took the lock over and committed ${Math.round(retried / 1000)} s after the freeze; zombie woke → "${stopped[0]}"`,
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
  }
}

test('faults 10a: an offload frozen past its heartbeat timeout; the retry takes over and commits; the zombie commits nothing', () => scenario('offload'));
test('faults 10b: two commitRanges attempts of one fan-out race to commit: every row once, no committed file deleted', () => scenario('fan-out'));
