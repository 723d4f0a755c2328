// 6. Long run (issue 13): D simulated days on one bronze table, each 96 offload cycles (a real offloadTable over a
// few hundred new trades in that day's partition, as every 15 minutes) and then the daily maintenance stages in the
// workflow's order (compact → rewrite-manifests → expire → orphans → audit), all real activities against Postgres and
// the warehouse. Reported per simulated day: what the table's metadata weighs and what each cycle and stage costs.
//
// The clock is simulated only where it decides something: snapshot expiry keeps the snapshots of the last
// --retain-days simulated days (its cutoff is the real time that simulated day began), so the run reaches expiry's
// steady state within a few days instead of after the production default of 7.
import { loadavg } from 'node:os';
import { createActivities } from '../../src/activities';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { currentSnapshot, loadTable, readManifestList } from '../../src/iceberg';
import { bronzeConfig, type Bench } from '../lib/context';
import type { Figure } from '../lib/report';
import { percentile, round, timed } from '../lib/stats';

const DAY = 86_400_000;
const CYCLE = 15 * 60_000;
const CYCLES_PER_DAY = 96;
const ROWS_PER_CYCLE = 300;
const STAGES = ['compact', 'rewrite-manifests', 'expire', 'orphans', 'audit'] as const;

export interface LongrunDay {
  day: number;
  /** After the day's maintenance. */
  manifests: number;
  /** Most manifests any cycle of the day left in the current list (before maintenance). */
  maxManifestsInDay: number;
  manifestListBytes: number;
  /** Sum of the current manifests' lengths (what a full scan plan opens). */
  manifestBytes: number;
  metadataJsonBytes: number;
  liveDataFiles: number;
  snapshots: number;
  totalRecords: number;
  cycleP50S: number;
  cycleP95S: number;
  /** CPU seconds of this process per cycle (p50): steadier than wall time when neighbours steal the cores. */
  cycleCpuP50S: number;
  /** Load average (1 min) at the end of the day. */
  load: number;
  stageS: Record<(typeof STAGES)[number], number>;
}

export function longrunTable(days: LongrunDay[]): string {
  const head = '| day | manifests in current list (max during day) | manifest-list bytes | manifest bytes | metadata.json bytes | live data files | retained snapshots | p50 cycle s (p95) | p50 cycle CPU s | load | compact s | rewrite-manifests s | expire s | orphans s | audit s |';
  const rows = days.map((d) => `| ${d.day} | ${d.manifests} (${d.maxManifestsInDay}) | ${d.manifestListBytes} | ${d.manifestBytes} | ${d.metadataJsonBytes} | ${d.liveDataFiles} | ${d.snapshots} | ${round(d.cycleP50S, 3)} (${round(d.cycleP95S, 3)}) | ${round(d.cycleCpuP50S, 3)} | ${round(d.load, 1)} | ${STAGES.map((s) => round(d.stageS[s], 2)).join(' | ')} |`);
  return [head, `|${'---|'.repeat(15)}`, ...rows].join('\n');
}

export async function longrunStep(b: Bench): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const { days: nDays, retainDays } = b.opts;
  const name = 'longrun';
  await createBronzeTable(b.services.ch, name);
  const settings = b.settings({ tag: 'longrun', tables: [bronzeConfig(name, name)] });
  const { pool, ch, io } = b.services;
  const acts = createActivities({ settings, pool, ch, io });
  const id = { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table: name };
  // Simulated day 0 starts D days before today (UTC midnight), so every event time is in the past.
  const sim0 = Math.floor(Date.now() / DAY) * DAY - nDays * DAY;
  const dayBeganReal: number[] = [];
  const days: LongrunDay[] = [];
  const listOf = async () => {
    const t = (await loadTable(pool, io, id))!;
    const snap = currentSnapshot(t.metadata)!;
    return { t, snap, list: await readManifestList(io, snap) };
  };

  for (let d = 0; d < nDays; d++) {
    dayBeganReal.push(Date.now());
    const cycles: number[] = [];
    const cpu: number[] = [];
    let maxManifests = 0;
    for (let c = 0; c < CYCLES_PER_DAY; c++) {
      const end = new Date(sim0 + d * DAY + (c + 1) * CYCLE - 1);
      await insertTrades(ch, name, { rows: ROWS_PER_CYCLE, exchange: 'binance', seed: d * CYCLES_PER_DAY + c, eventTimeEnd: end, spreadSeconds: CYCLE / 1000 - 1 });
      const { s, cpuS, value } = await timed(() => acts.offloadTable({ table: name }));
      if (value.status !== 'committed') throw new Error(`longrun day ${d + 1} cycle ${c + 1}: offload ${value.status} (${value.reason ?? ''})`);
      cycles.push(s);
      cpu.push(cpuS);
      maxManifests = Math.max(maxManifests, (await listOf()).list.length);
    }
    const stageS = {} as LongrunDay['stageS'];
    const run = async (stage: (typeof STAGES)[number], fn: () => Promise<unknown>) => {
      stageS[stage] = (await timed(fn)).s;
    };
    await run('compact', () => acts.compactTable({ table: name, targetFileSizeMb: 128, minInputFiles: 5, dryRun: false }));
    await run('rewrite-manifests', () => acts.rewriteManifestsTable({ table: name, dryRun: false }));
    // Keep the snapshots of the last retainDays simulated days (and at least 3, as the daily default does).
    const cutoff = dayBeganReal[Math.max(0, d - retainDays + 1)]!;
    await run('expire', () => acts.expireTable({ table: name, snapshotMaxAgeHours: 0, retainLast: 3, dryRun: false, nowMs: cutoff }));
    await run('orphans', () => acts.removeOrphans({ table: name, olderThanHours: 72, dryRun: false }));
    await run('audit', async () => {
      const a = await acts.auditTable({ table: name, windowStart: new Date(sim0 + d * DAY).toISOString(), windowEnd: new Date(sim0 + (d + 1) * DAY).toISOString() });
      if (a.status !== 'ok') throw new Error(`longrun day ${d + 1}: audit ${a.status}: ${a.notes}`);
    });
    const { t, snap, list } = await listOf();
    const day: LongrunDay = {
      day: d + 1,
      manifests: list.length,
      maxManifestsInDay: maxManifests,
      manifestListBytes: (await io.read(snap['manifest-list'])).byteLength,
      manifestBytes: list.reduce((a, mf) => a + mf.manifest_length, 0),
      metadataJsonBytes: (await io.read(t.metadataUri)).byteLength,
      liveDataFiles: Number(snap.summary['total-data-files']),
      snapshots: t.metadata.snapshots.length,
      totalRecords: Number(snap.summary['total-records']),
      cycleP50S: percentile(cycles, 50),
      cycleP95S: percentile(cycles, 95),
      cycleCpuP50S: percentile(cpu, 50),
      load: loadavg()[0]!,
      stageS,
    };
    days.push(day);
    b.log(`day ${day.day}: ${day.manifests} manifests (max ${maxManifests}), list ${day.manifestListBytes} B, metadata ${day.metadataJsonBytes} B, ${day.liveDataFiles} files, ${day.snapshots} snapshots, p50 cycle ${day.cycleP50S.toFixed(3)} s, stages ${STAGES.map((s) => `${s} ${stageS[s].toFixed(2)} s`).join(', ')}`);
  }
  if (days.at(-1)!.totalRecords !== nDays * CYCLES_PER_DAY * ROWS_PER_CYCLE) throw new Error(`longrun: the table holds ${days.at(-1)!.totalRecords} rows, expected ${nDays * CYCLES_PER_DAY * ROWS_PER_CYCLE}`);
  const maxManifests = Math.max(...days.map((d) => d.maxManifestsInDay));
  const second = days[Math.min(1, days.length - 1)]!;
  const last = days.at(-1)!;
  const cycleRatio = last.cycleP50S / second.cycleP50S;
  const cpuRatio = last.cycleCpuP50S / second.cycleCpuP50S;
  b.log(`per simulated day:\n${longrunTable(days)}`);
  return {
    figures: [
      { step: 'longrun', name: `manifests in the current list, most at any cycle over ${nDays} simulated days`, unit: 'manifests', value: maxManifests, samples: days.map((d) => d.maxManifestsInDay), target: '≤ 120', met: maxManifests <= 120 },
      { step: 'longrun', name: `p50 offload cycle on day ${last.day} ÷ day ${second.day}`, unit: '×', value: cycleRatio, samples: days.map((d) => d.cycleP50S), target: '≤ 1.2', met: cycleRatio <= 1.2 },
      { step: 'longrun', name: `p50 offload-cycle CPU time on day ${last.day} ÷ day ${second.day}`, unit: '×', value: cpuRatio, samples: days.map((d) => d.cycleCpuP50S), target: '≤ 1.2', met: cpuRatio <= 1.2 },
      { step: 'longrun', name: `metadata.json bytes on day ${last.day}`, unit: 'B', value: last.metadataJsonBytes, samples: days.map((d) => d.metadataJsonBytes) },
    ],
    details: { days, cyclesPerDay: CYCLES_PER_DAY, rowsPerCycle: ROWS_PER_CYCLE, retainDays, table: longrunTable(days) },
  };
}
