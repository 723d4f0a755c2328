// Scenario 8: soak. Offload cycles back to back for COLDTIER_SOAK_SECONDS (default 600: ten minutes) while a generator keeps
// inserting trades (loopback, bounded), with one compaction + expiry run started a tenth of the way in, racing the
// cycles. The end state must be exact, the watermark lag bounded, and the worker's memory must not keep growing:
// its RSS (/proc/<pid>/status) is reported at start and end, and its live JS heap — what each full (mark-compact)
// garbage collection leaves, from the worker's --trace-gc output — must stay flat once the maintenance run is over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MaintenanceWorkflowResult, OffloadWorkflowResult } from '../../src/activities/types';
import { readWatermark } from '../../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { bronzeTable } from '../helpers/coldtier';
import { census, compare, harness, report, sleep } from '../faults/helpers';

const SOAK_SECONDS = Number(process.env.COLDTIER_SOAK_SECONDS ?? 600);
/** Generator: every tick, this many rows into each table, until the soak ends or MAX_ROWS per table. */
const TICK_MS = 250;
const ROWS_PER_TICK = 100;
const MAX_ROWS = 2_000_000;
/** A cycle takes well under a second here; the watermark may trail the newest source row by a cycle plus the buffer. */
const MAX_LAG_MS = 60_000;

const MB = 1024 * 1024;
const mb = (bytes: number) => `${Math.round(bytes / MB)} MB`;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

/**
 * Full GCs from V8's --trace-gc lines ("[pid:0xisolate]  1234 ms: Mark-Compact 95.3 (120.1) -> 80.2 (118.0) MB"), in
 * order: which isolate (the main thread, or one of the SDK's workflow threads) and the heap size it left.
 */
function majorGcs(output: string): { isolate: string; after: number }[] {
  return [...output.matchAll(/\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/g)].map((m) => ({
    isolate: m[1]!,
    after: Number(m[2]) * MB,
  }));
}

test(`faults 8: soak — ${SOAK_SECONDS} s of back-to-back cycles under continuous inserts: exact, bounded lag, flat memory`, { timeout: (SOAK_SECONDS + 480) * 1000 }, async () => {
  const h = await harness({ tables: (tag) => ['binance', 'kraken'].map((ex) => bronzeTable(`bronze_soak_${ex}_${tag}`, { lateDataBufferSeconds: 1 })) });
  const tables = h.settings.tables.map((t) => t.name);
  // Also stopped in `finally` and by its own deadline, so a failed or timed-out soak never leaves it inserting.
  let generating = true;
  const deadline = Date.now() + (SOAK_SECONDS + 180) * 1000;
  try {
    for (const t of tables) await createBronzeTable(h.ch, t);
    const worker = await h.startWorker('soak', {}, { nodeArgs: ['--trace-gc'] });
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
    const durations: number[] = [];
    /** Number of full GCs the worker had done when each cycle ended. */
    const gcsAt: number[] = [];
    const started = Date.now();
    let cycles = 0;
    let rows = 0;
    let maxLagMs = 0;
    let maintenance: Promise<MaintenanceWorkflowResult> | undefined;
    let maintenanceFrom = 0;
    let maintenanceTo = Infinity;
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
      gcsAt.push(majorGcs(worker.output()).length);
      if (!maintenance && Date.now() - started > (SOAK_SECONDS * 1000) / 10) {
        maintenanceFrom = cycles;
        maintenance = h.client.workflow.execute('maintenanceWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `soak-maintain-${h.tag}`,
          args: [{ stages: ['compact', 'expire'], snapshotMaxAgeHours: 0, snapshotRetainLast: 5 }],
          workflowExecutionTimeout: '10 minutes',
        }) as Promise<MaintenanceWorkflowResult>;
        void maintenance.then(() => (maintenanceTo = cycles), () => undefined);
      }
    }
    generating = false;
    await generator;
    const maintained = await maintenance;
    // A maintenance run still going when the cycles stopped: judge the heap over whatever full GCs came after it.
    if (maintenanceTo === Infinity) maintenanceTo = cycles;
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

    // The live heap each full GC left once the maintenance run was over, per isolate, first half against second half.
    const gcs = majorGcs(worker.output());
    const afterMaintenance = gcs.slice(gcsAt[Math.min(maintenanceTo, gcsAt.length) - 1] ?? gcs.length);
    const isolates = new Map<string, number[]>();
    for (const g of afterMaintenance) isolates.set(g.isolate, [...(isolates.get(g.isolate) ?? []), g.after]);
    const judged = [...isolates].filter(([, a]) => a.length >= 4).map(([isolate, a]) => {
      const half = Math.floor(a.length / 2);
      return { isolate, gcs: a.length, early: Math.min(...a.slice(0, half)), late: Math.min(...a.slice(half)) };
    });
    // The isolate with the largest heap is the main thread, where the activities run.
    const main = [...judged].sort((x, y) => y.early - x.early)[0];
    const liveEarly = main?.early ?? NaN;
    const liveLate = main?.late ?? NaN;
    const slow = (a: number[]) => `${median(a)} ms`;
    console.log(
      `soak: ${SOAK_SECONDS} s, ${cycles} cycles (median ${slow(durations.slice(0, 50))} first 50, ${slow(durations.slice(-50))} last 50), ${rows} rows offloaded, ` +
        `max watermark lag ${(maxLagMs / 1000).toFixed(1)} s, worker RSS ${mb(rssStart)} → ${mb(rssEnd)} (peak ${mb(Math.max(...rss))}), ` +
        `heap after full GCs once maintenance was over ${judged.map((j) => `${j.isolate}: ${mb(j.early)} → ${mb(j.late)} (${j.gcs} GCs)`).join(', ')}, maintenance during cycles ${maintenanceFrom}–${maintenanceTo} ` +
        `(compaction ${maintained?.tables.map((t) => `${t.compact?.filesBefore}→${t.compact?.filesAfter}`).join(', ')})`,
    );
    assert.equal(duplicates, 0);
    assert.ok(maxLagMs < MAX_LAG_MS, `watermark lag stayed under ${MAX_LAG_MS} ms (max ${maxLagMs} ms)`);
    // Not growing without bound: the heap full GCs leave stays where it was (a leak raises every one of them), and the
    // RSS stays far from anything alarming.
    assert.ok(main, `enough full GCs after the maintenance run to judge (${afterMaintenance.length})`);
    for (const j of judged) assert.ok(j.late <= j.early * 1.25 + 16 * MB, `isolate ${j.isolate}: live heap after full GCs ${mb(j.early)} (first half) → ${mb(j.late)} (second half)`);
    assert.ok(Math.max(...rss) < 1.5 * 1024 * MB, `worker RSS peak ${mb(Math.max(...rss))} under 1.5 GiB`);
    report({
      scenario: `8 soak ${SOAK_SECONDS} s`,
      faults: `${cycles} back-to-back cycles, continuous inserts (${inserted} rows/table), compaction + expiry racing them; lag max ${(maxLagMs / 1000).toFixed(1)} s; worker RSS ${mb(rssStart)} → ${mb(rssEnd)}, live heap after full GCs ${mb(liveEarly)} → ${mb(liveLate)}`,
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
