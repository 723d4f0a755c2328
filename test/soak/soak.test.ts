// Scenario 8: soak. Offload cycles back to back for COLDTIER_SOAK_SECONDS (default 180) while a generator keeps
// inserting trades (loopback, bounded), with one compaction + expiry run started a quarter of the way in, racing the
// cycles. The end state must be exact, the watermark lag bounded, and the worker's memory must not keep growing:
// its RSS (/proc/<pid>/status) is reported at start and end, and its live JS heap (the post-GC floor of
// coldtier_nodejs_heap_size_used_bytes on its /metrics) must stay flat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MaintenanceWorkflowResult, OffloadWorkflowResult } from '../../src/activities/types';
import { readWatermark } from '../../src/db/watermarks';
import { getFreePort } from '../../src/devstack/index';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { bronzeTable } from '../helpers/coldtier';
import { census, compare, harness, report, sleep } from '../faults/helpers';

const SOAK_SECONDS = Number(process.env.COLDTIER_SOAK_SECONDS ?? 180);
/** Generator: every tick, this many rows into each table, until the soak ends or MAX_ROWS per table. */
const TICK_MS = 250;
const ROWS_PER_TICK = 100;
const MAX_ROWS = 2_000_000;
/** A cycle takes well under a second here; the watermark may trail the newest source row by a cycle plus the buffer. */
const MAX_LAG_MS = 60_000;

const MB = 1024 * 1024;
const mb = (bytes: number) => `${Math.round(bytes / MB)} MB`;
const floor = (a: number[]) => Math.min(...a);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

test(`faults 8: soak — ${SOAK_SECONDS} s of back-to-back cycles under continuous inserts: exact, bounded lag, flat memory`, { timeout: (SOAK_SECONDS + 240) * 1000 }, async () => {
  const h = await harness({ tables: (tag) => ['binance', 'kraken'].map((ex) => bronzeTable(`bronze_soak_${ex}_${tag}`, { lateDataBufferSeconds: 1 })) });
  const tables = h.settings.tables.map((t) => t.name);
  // Also stopped in `finally` and by its own deadline, so a failed or timed-out soak never leaves it inserting.
  let generating = true;
  const deadline = Date.now() + (SOAK_SECONDS + 180) * 1000;
  try {
    for (const t of tables) await createBronzeTable(h.ch, t);
    const port = await getFreePort();
    const worker = await h.startWorker('soak', {}, ['--metrics-port', String(port)]);
    const heapUsed = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/^coldtier_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1]);
    };
    const cycleOnce = async (i: number) => {
      const started = Date.now();
      const r = (await h.client.workflow.execute('offloadWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `soak-${i}-${h.tag}`,
        args: [{ heartbeatTimeoutSeconds: 30 }],
        // A dead worker fails the soak instead of hanging it.
        workflowExecutionTimeout: '3 minutes',
      })) as OffloadWorkflowResult;
      assert.equal(r.status, 'ok', JSON.stringify(r.tables.filter((t) => t.status === 'failed')));
      return { rows: r.rows, ms: Date.now() - started };
    };

    let inserted = 0;
    const generator = (async () => {
      for (let seed = 1; generating && inserted < MAX_ROWS && Date.now() < deadline; seed++) {
        for (const [i, t] of tables.entries()) await insertTrades(h.ch, t, { rows: ROWS_PER_TICK, exchange: i ? 'kraken' : 'binance', seed, spreadSeconds: 7200 });
        inserted += ROWS_PER_TICK;
        await sleep(TICK_MS);
      }
    })();

    // Warm-up cycle, then the baseline.
    await sleep(2_000);
    await cycleOnce(0);
    const rssStart = worker.rssKb() * 1024;
    const rss: number[] = [];
    const heap: number[] = [];
    const durations: number[] = [];
    const started = Date.now();
    let cycles = 0;
    let rows = 0;
    let maxLagMs = 0;
    let maintenance: Promise<MaintenanceWorkflowResult> | undefined;
    let maintenanceCycles = '';
    while (Date.now() - started < SOAK_SECONDS * 1000) {
      const c = await cycleOnce(++cycles);
      rows += c.rows;
      durations.push(c.ms);
      for (const t of tables) {
        const wm = await readWatermark(h.pool, h.id(t));
        const [newest] = await h.ch.json<{ ms: string }>(`SELECT toString(toUnixTimestamp64Milli(max(ingested_at))) AS ms FROM ${t}`);
        maxLagMs = Math.max(maxLagMs, Number(newest!.ms) - wm!.ts.getTime());
      }
      rss.push(worker.rssKb() * 1024);
      heap.push(await heapUsed());
      if (!maintenance && Date.now() - started > (SOAK_SECONDS * 1000) / 4) {
        const from = cycles;
        maintenance = h.client.workflow.execute('maintenanceWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `soak-maintain-${h.tag}`,
          args: [{ stages: ['compact', 'expire'], snapshotMaxAgeHours: 0, snapshotRetainLast: 5 }],
          workflowExecutionTimeout: '10 minutes',
        }) as Promise<MaintenanceWorkflowResult>;
        void maintenance.then(() => (maintenanceCycles = `${from}–${cycles}`), () => undefined);
      }
    }
    generating = false;
    await generator;
    const maintained = await maintenance;
    for (const t of maintained?.tables ?? []) assert.equal(t.status, 'ok', t.errors.join('; '));
    // Drain: everything inserted is past the 1 s buffer now.
    await sleep(1_500);
    rows += (await cycleOnce(++cycles)).rows;
    const rssEnd = worker.rssKb() * 1024;

    let expected = 0;
    let found = 0;
    let duplicates = 0;
    let orphaned = 0;
    for (const t of tables) {
      const c = await compare(h, t);
      assert.deepEqual(c.cold, c.source, `${t}: Iceberg equals the source`);
      expected += Number(c.source.n);
      found += Number(c.cold.n);
      duplicates += c.duplicates;
      const files = await census(h, t);
      assert.deepEqual(files.missing, []);
      orphaned += files.orphaned.length;
    }

    const q = Math.floor(heap.length / 4);
    const liveEarly = floor(heap.slice(q, 2 * q));
    const liveLate = floor(heap.slice(3 * q));
    const slow = (a: number[]) => `${median(a)} ms`;
    console.log(
      `soak: ${SOAK_SECONDS} s, ${cycles} cycles (median ${slow(durations.slice(0, 50))} first 50, ${slow(durations.slice(-50))} last 50), ${rows} rows offloaded, ` +
        `max watermark lag ${(maxLagMs / 1000).toFixed(1)} s, worker RSS ${mb(rssStart)} → ${mb(rssEnd)} (peak ${mb(Math.max(...rss))}), ` +
        `live heap floor ${mb(floor(heap.slice(0, q)))} / ${mb(liveEarly)} / ${mb(floor(heap.slice(2 * q, 3 * q)))} / ${mb(liveLate)} by quarter, ` +
        `maintenance during cycles ${maintenanceCycles} (compaction ${maintained?.tables.map((t) => `${t.compact?.filesBefore}→${t.compact?.filesAfter}`).join(', ')})`,
    );
    assert.equal(duplicates, 0);
    assert.ok(maxLagMs < MAX_LAG_MS, `watermark lag stayed under ${MAX_LAG_MS} ms (max ${maxLagMs} ms)`);
    // Not growing without bound: the live heap in the last quarter is where it was in the second quarter (GC floor),
    // and the RSS stays far from anything alarming.
    assert.ok(liveLate <= liveEarly * 1.25 + 16 * MB, `live heap floor ${mb(liveEarly)} (2nd quarter) → ${mb(liveLate)} (last quarter)`);
    assert.ok(Math.max(...rss) < 1.5 * 1024 * MB, `worker RSS peak ${mb(Math.max(...rss))} under 1.5 GiB`);
    report({
      scenario: `8 soak ${SOAK_SECONDS} s`,
      faults: `${cycles} back-to-back cycles, continuous inserts (${inserted} rows/table), compaction + expiry racing them; lag max ${(maxLagMs / 1000).toFixed(1)} s; worker RSS ${mb(rssStart)} → ${mb(rssEnd)}, live heap ${mb(liveEarly)} → ${mb(liveLate)}`,
      expected,
      found,
      duplicates,
      orphaned,
    });
  } finally {
    generating = false;
    await h.close();
  }
});
