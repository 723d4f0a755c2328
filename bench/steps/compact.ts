// 4. Compaction: many small files of one partition → target-size files through the maintenance compact activity
// (through ClickHouse for this table), against, in the same run and interleaved: (a) a plain read-every-file-and-
// rewrite-one-Parquet with parquet-wasm, (b) ClickHouse reading, sorting and writing the same files by itself (the
// limit on this machine), and (c) the same activity on the parquet-wasm path (encoder: arrow), the path before
// issue 16. Then the peak RSS of a separate `coldtier worker` process (ClickHouse through the chDB HTTP gateway)
// running the compaction through the maintenance workflow.
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { createActivities } from '../../src/activities';
import { commitAppend } from '../../src/activities/commit';
import { ensureTable } from '../../src/activities/tables';
import type { MaintenanceWorkflowResult } from '../../src/activities/types';
import { startChdbGateway } from '../../src/clickhouse/chdb-gateway';
import { describeSource } from '../../src/clickhouse/client';
import { dataFilesFunction } from '../../src/clickhouse/data-files';
import { readStructure } from '../../src/clickhouse/compact-export';
import { PARQUET_SETTINGS } from '../../src/clickhouse/parquet-export';
import { tableConfigSchema, type TableConfigInput } from '../../src/config/tables';
import { currentSchema, writeDataFiles, type DataFile } from '../../src/iceberg';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { connectClient } from '../../src/temporal/connection';
import { bronzeConfig, type Bench } from '../lib/context';
import { tradeSource } from '../lib/data';
import { instrument } from '../lib/phases';
import { resetPeak, traceRss } from '../lib/proc';
import type { Figure } from '../lib/report';
import { MB, median, timed } from '../lib/stats';
import { spawnWorker } from './catchup';

const DAY = 86_400_000;

/** The limit reference: decode every file, concatenate, encode one zstd Parquet file, write it. No sort, no metadata. */
async function plainRewrite(b: Bench, files: DataFile[], out: string): Promise<number> {
  const batches = [];
  for (const f of files) {
    const bytes = await b.services.io.read(f.file_path);
    batches.push(...tableFromIPC(pw.readParquet(bytes).intoIPCStream()).batches);
  }
  const all = new Table(batches);
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(1024 * 1024).build();
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(all, 'stream')), props);
  await b.services.io.write(out, bytes);
  return bytes.byteLength;
}

/** ClickHouse by itself: the same files (same exact-list table function), sorted by the sort order, one zstd Parquet file. */
async function clickhouseRewrite(b: Bench, files: DataFile[], structure: string, out: string): Promise<number> {
  rmSync(out, { force: true });
  const from = dataFilesFunction(files.map((f) => f.file_path), {}, structure);
  // The same Parquet writer settings as coldtier's (zstd, Iceberg's physical types, no bloom filters), so the
  // reference does the same work: ClickHouse's default bloom filters alone cost it ~25 % here.
  const settings = Object.entries({ ...PARQUET_SETTINGS, use_hive_partitioning: 0 }).map(([k, v]) => `${k} = ${typeof v === 'string' ? `'${v}'` : v}`).join(', ');
  await b.services.ch.command(`SELECT * FROM ${from} ORDER BY symbol, exchange_timestamp INTO OUTFILE '${out}' TRUNCATE FORMAT Parquet SETTINGS ${settings}`);
  return statSync(out).size;
}

const spread = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

export async function compactStep(b: Bench): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const { compactFiles: nFiles, compactFileRows: perFile, runs } = b.opts;
  const rows = nFiles * perFile;
  // One UTC day (noon yesterday, one hour of event time), so all small files share one partition.
  const noon = new Date(Math.floor(Date.now() / DAY) * DAY - DAY / 2);
  const src = await tradeSource(b, 'compact_src', rows, { spreadSeconds: 3600, eventTimeEnd: noon });
  const names = Array.from({ length: runs }, (_, i) => `compact_${i + 1}`);
  const wasmNames = names.map((n) => `${n}_wasm`);
  const tables: TableConfigInput[] = [
    ...['compact_seed', ...names, 'compact_rss'].map((n) => bronzeConfig(n, src.table)),
    ...wasmNames.map((n) => bronzeConfig(n, src.table, { encoder: 'arrow' })),
  ];
  const settings = b.settings({ tag: 'compact', tables });
  const { pool, ch, io } = b.services;
  const id = (table: string) => ({ catalog: settings.catalog.name, namespace: settings.catalog.namespace, table });
  const cfg = tableConfigSchema.parse(bronzeConfig('compact_seed', src.table));
  const { schema } = icebergSchemaFromClickHouse(src.table, await describeSource(ch, src.table, src.table));

  // The small files, written once in ingestion order (as small offload batches would be); every run's table
  // references the same files, so each run compacts identical input.
  const seed = await ensureTable({ settings, pool, ch, io }, cfg, id('compact_seed'), schema);
  const all = await ch.arrow(`SELECT ${src.select.join(', ')} FROM \`${src.table}\` ORDER BY ingested_at, sequence`);
  const files: DataFile[] = [];
  const { s: seedS } = await timed(async () => {
    for (let i = 0; i < nFiles; i++) files.push(...(await writeDataFiles(io, seed.metadata, all.slice(i * perFile, (i + 1) * perFile))));
  });
  const inputBytes = files.reduce((a, f) => a + f.file_size_in_bytes, 0);
  const structure = readStructure(currentSchema(seed.metadata));
  b.log(`wrote ${files.length} small files (${(inputBytes / MB).toFixed(1)} MB, ${rows} rows) in ${seedS.toFixed(1)} s`);

  const acts = createActivities({ settings, pool, ch, io });
  // The ClickHouse path's wall time split by call: ClickHouse's read + sort + encode, uploads, the rest in process.
  const timedDeps = instrument(ch, io);
  const timedActs = createActivities({ settings, pool, ch: timedDeps.ch, io: timedDeps.io });
  const phaseRuns: Array<Record<string, number>> = [];
  const withFiles = async (name: string) => {
    const table = await ensureTable({ settings, pool, ch, io }, tableConfigSchema.parse(tables.find((t) => t.name === name)!), id(name), schema);
    await commitAppend(pool, io, table, { id: id(name), files, summary: { 'coldtier.bench': 'small files' } });
  };
  const compactOnce = async (name: string, encoder: 'clickhouse' | 'arrow') => {
    await withFiles(name);
    const before = { ...timedDeps.phases };
    const { s, value } = await timed(() => (encoder === 'clickhouse' ? timedActs : acts).compactTable({ table: name, targetFileSizeMb: 128, minInputFiles: 5, dryRun: false }));
    if (encoder === 'clickhouse') {
      const run = Object.fromEntries(Object.entries(timedDeps.phases).map(([k, v]) => [k, v - (before[k] ?? 0)]));
      run['in process: lock, plan, footer rewrite, manifests, Postgres commit (remainder)'] = s - Object.values(run).reduce((a, x) => a + x, 0);
      phaseRuns.push(run);
    }
    if (value.status !== 'compacted' || value.filesRewritten !== files.length || value.encoder !== encoder) throw new Error(`compaction of ${name}: ${value.status} via ${value.encoder ?? '?'} (${value.encoderReason ?? ''}), ${value.filesRewritten} files rewritten`);
    return { s, value };
  };
  const compact: number[] = [];
  const wasm: number[] = [];
  const plain: number[] = [];
  const chSelf: number[] = [];
  const results = [];
  for (const [i, name] of names.entries()) {
    // Interleaved, so a noisy neighbour slows every contender of a run alike.
    const { s, value } = await compactOnce(name, 'clickhouse');
    compact.push(s);
    results.push(value);
    const { s: ps } = await timed(() => plainRewrite(b, files, `file://${join(b.dir, 'ref', `plain_rewrite_${i + 1}.parquet`)}`));
    plain.push(ps);
    const out = join(b.dir, 'ref', `clickhouse_rewrite_${i + 1}.parquet`);
    const { s: cs } = await timed(() => clickhouseRewrite(b, files, structure, out));
    chSelf.push(cs);
    const { s: ws } = await compactOnce(wasmNames[i]!, 'arrow');
    wasm.push(ws);
    b.log(`run ${i + 1}: compact ${files.length} → ${value.filesAfter} files through ClickHouse in ${s.toFixed(1)} s; plain parquet-wasm rewrite ${ps.toFixed(1)} s; ClickHouse by itself ${cs.toFixed(1)} s; compaction on the parquet-wasm path ${ws.toFixed(1)} s`);
  }

  const phaseNames = [...new Set(phaseRuns.flatMap((r) => Object.keys(r)))];
  const phases = Object.fromEntries(phaseNames.map((n) => [n, median(phaseRuns.map((r) => r[n] ?? 0))]));
  b.log(`compaction phases (median s): ${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('; ')}`);

  // Peak RSS of a worker process compacting the same files through the maintenance workflow.
  const gateway = await startChdbGateway({ path: b.chdbPath });
  let rss: { peakMb: number; startMb: number; s: number } | undefined;
  try {
    await withFiles('compact_rss');
    const rssSettings = b.settings({ tag: 'compact', tables, clickhouseUrl: gateway.url });
    const config = join(b.dir, 'compact.config.json');
    writeFileSync(config, JSON.stringify({ tables }));
    const client = await connectClient(rssSettings.temporal);
    const worker = await spawnWorker(b.env(rssSettings, config), 'bench-compact-rss');
    try {
      const pid = worker.child.pid!;
      resetPeak(pid);
      const { value, trace } = await traceRss(pid, () =>
        timed(async () => {
          const h = await client.workflow.start('maintenanceWorkflow', { taskQueue: rssSettings.temporal.taskQueue, workflowId: `bench-compact-rss-${Date.now()}`, args: [{ tables: ['compact_rss'], stages: ['compact'] }] });
          return (await h.result()) as MaintenanceWorkflowResult;
        }),
      );
      const c = value.value.tables[0]?.compact;
      if (c?.status !== 'compacted' || c.encoder !== 'clickhouse') throw new Error(`worker compaction: ${JSON.stringify(value.value.tables[0])}`);
      rss = { peakMb: trace.peakMb, startMb: trace.startMb, s: value.s };
      b.log(`worker compaction of ${files.length} files: ${value.s.toFixed(1)} s, peak RSS ${trace.peakMb.toFixed(0)} MB (idle ${trace.startMb.toFixed(0)} MB)`);
    } finally {
      await worker.stop();
      await client.connection.close();
    }
  } finally {
    await gateway.close();
  }

  const mbps = (xs: number[]) => xs.map((s) => inputBytes / MB / s);
  const c = mbps(compact);
  // Per-run ratios (each run's compaction against the references measured right after it), their median and spread.
  const vs = (refName: string, refS: number[], target?: number) => {
    const ratios = compact.map((s, i) => refS[i]! / s);
    const ratio = median(ratios);
    return { reference: { name: refName, value: median(mbps(refS)), samples: mbps(refS) }, ratio, ratioSpread: spread(ratios), ratioOfMedians: median(c) / median(mbps(refS)), ...(target ? { target: `≥ ${target}×`, met: ratio >= target } : {}) };
  };
  const name = `compact ${files.length} small files (${(inputBytes / MB).toFixed(0)} MB, ${(rows / 1e6).toFixed(2)}M rows) → ${results[0]?.filesAfter ?? '?'} file(s) through ClickHouse, input MB/s`;
  const base = { step: 'compact' as const, name, unit: 'MB/s', value: median(c), samples: c };
  return {
    figures: [
      { ...base, ...vs('parquet-wasm read-all + rewrite (no sort)', plain, 1.0) },
      { ...base, ...vs('ClickHouse reads, sorts and writes the same files', chSelf, 0.8) },
      { ...base, ...vs('compaction on the parquet-wasm path (encoder: arrow)', wasm) },
      ...(rss ? [{ step: 'compact' as const, name: `worker peak RSS (VmHWM) compacting ${files.length} small files through the maintenance workflow`, unit: 'MB', value: rss.peakMb, samples: [rss.peakMb], target: '< 600 MB', met: rss.peakMb < 600, note: `idle ${rss.startMb.toFixed(0)} MB; ClickHouse through the chDB HTTP gateway` }] : []),
    ],
    details: { phasesMedianS: phases, phaseRuns, rows, inputBytes, inputFiles: files.length, compactS: compact, plainS: plain, clickhouseS: chSelf, wasmPathS: wasm, rss, results },
  };
}
