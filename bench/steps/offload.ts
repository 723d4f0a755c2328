// 1. Offload throughput: the real offload activity (ClickHouse → committed Iceberg table), against ClickHouse's
// own Parquet export, ClickHouse's own Iceberg writer and PyIceberg, all over the same rows in the same run.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createActivities } from '../../src/activities';
import type { OffloadTableResult, OffloadWorkflowResult } from '../../src/activities/types';
import { describeSource } from '../../src/clickhouse/client';
import { ARROW_SETTINGS } from '../../src/clickhouse/client';
import { connectClient } from '../../src/temporal/connection';
import { createWorker } from '../../src/worker';
import { bronzeConfig, type Bench } from '../lib/context';
import { sourceQuery, tradeSource, type Source } from '../lib/data';
import { filesUnder } from '../lib/files';
import { instrument, type Phases } from '../lib/phases';
import { traceRss } from '../lib/proc';
import { categoryTimes, profiled, selfTimes, type CpuProfile } from '../lib/profile';
import { pyicebergAppend } from '../lib/python';
import { writeWithClickHouse } from '../../src/activities/offload/clickhouse-write';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { newTableLocation, newTableMetadata } from '../../src/iceberg';
import type { Figure } from '../lib/report';
import { MB, median, timed } from '../lib/stats';
import { readFileSync } from 'node:fs';

interface Run {
  s: number;
  /** CPU seconds of the bench process (JS + in-process chDB) during the run. */
  cpuS?: number;
  rows: number;
  bytes: number;
  files?: number;
  commits?: number;
  peakRssMb?: number;
  startRssMb?: number;
  phases?: Phases;
}

const rate = (r: Run) => r.rows / r.s;
const mbps = (r: Run) => r.bytes / MB / r.s;

async function offloadDirect(b: Bench, tag: string, warehouse: 'file' | 's3', table: string, src: Source, extra: Parameters<typeof bronzeConfig>[2] = {}): Promise<Run> {
  const settings = b.settings({ tag, warehouse, tables: [bronzeConfig(table, src.table, extra)] });
  const { ch, io, phases } = instrument(b.services.ch, b.services.io);
  const acts = createActivities({ settings, pool: b.services.pool, ch, io });
  const { value, trace } = await traceRss('self', () => timed(() => acts.offloadTable({ table })));
  const r: OffloadTableResult = value.value;
  if (r.rows !== src.rows) throw new Error(`offload of ${table} moved ${r.rows} rows, expected ${src.rows}`);
  const io_ = Object.values(phases).reduce((a, x) => a + x, 0);
  phases['in-process: footer rewrite / Arrow encode, metrics, manifests, Postgres commit (remainder)'] = value.s - io_;
  return { s: value.s, cpuS: value.cpuS, rows: r.rows, bytes: r.bytes, files: r.files, commits: r.commits, peakRssMb: trace.peakMb, startRssMb: trace.startMb, phases };
}

/** ClickHouse's own Parquet encoder (zstd), writing the offload's exact SELECT to a local file. */
async function parquetExport(b: Bench, src: Source, path: string): Promise<Run> {
  rmSync(path, { force: true });
  const { s, cpuS } = await timed(() => b.services.ch.command(`${sourceQuery(src)} INTO OUTFILE '${path}' TRUNCATE FORMAT Parquet SETTINGS output_format_parquet_compression_method='zstd'`));
  return { s, cpuS, rows: src.rows, bytes: statSync(path).size };
}

/**
 * ClickHouse's experimental Iceberg writer (IcebergLocal engine, allow_insert_into_iceberg). ClickHouse 26.7 refuses
 * Decimal columns ("Unsupported type for iceberg") and toDate partitioning, so price/quantity go in as Float64 and
 * the spec is toRelativeDayNum (Iceberg's day transform).
 */
async function clickhouseIceberg(b: Bench, src: Source, dir: string, name: string): Promise<Run> {
  const ch = b.services.ch;
  const cols = await describeSource(ch, src.table, src.table);
  const type = (t: string) => (t.startsWith('Decimal') ? 'Float64' : t.replace(/^LowCardinality\((.*)\)$/, '$1'));
  const expr = (c: { name: string; type: string }) => (c.type.startsWith('Decimal') ? `toFloat64(\`${c.name}\`) AS \`${c.name}\`` : `\`${c.name}\``);
  rmSync(dir, { recursive: true, force: true });
  await ch.command(`DROP TABLE IF EXISTS \`${name}\``);
  await ch.command(`CREATE TABLE \`${name}\` (${cols.map((c) => `\`${c.name}\` ${type(c.type)}`).join(', ')}) ENGINE = IcebergLocal('${dir}') PARTITION BY toRelativeDayNum(exchange_timestamp) SETTINGS allow_insert_into_iceberg = 1`);
  const { s, cpuS } = await timed(() => ch.command(`INSERT INTO \`${name}\` SELECT ${cols.map(expr).join(', ')} FROM \`${src.table}\`${src.orderBy} SETTINGS allow_insert_into_iceberg = 1`));
  const [{ n }] = (await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM \`${name}\``)) as [{ n: string }];
  if (Number(n) !== src.rows) throw new Error(`ClickHouse Iceberg insert holds ${n} rows, expected ${src.rows}`);
  await ch.command(`DROP TABLE \`${name}\``);
  const data = filesUnder(join(dir, 'data'), '.parquet');
  return { s, cpuS, rows: src.rows, bytes: data.bytes, files: data.files };
}

/** chDB exports the rows as an uncompressed Arrow IPC file; PyIceberg reads it and appends (timed inside Python). */
async function pyiceberg(b: Bench, src: Source, dir: string, name: string): Promise<{ exportS: number; exportCpuS: number; readS: number; appendS: number; readCpuS: number; appendCpuS: number; bytes: number; files: number; partitioned: boolean }> {
  mkdirSync(dir, { recursive: true });
  const arrow = join(dir, `${name}.arrow`);
  const settings = Object.entries(ARROW_SETTINGS).map(([k, v]) => `${k}=${typeof v === 'string' ? `'${v}'` : v}`).join(', ');
  const { s: exportS, cpuS: exportCpuS } = await timed(() => b.services.ch.command(`${sourceQuery(src)} INTO OUTFILE '${arrow}' TRUNCATE FORMAT Arrow SETTINGS ${settings}`));
  const r = await pyicebergAppend(arrow, join(dir, 'warehouse'), name, b.log);
  rmSync(arrow, { force: true });
  if (r.rows !== src.rows) throw new Error(`PyIceberg appended ${r.rows} rows, expected ${src.rows}`);
  return { exportS, exportCpuS, readS: r.read_s, appendS: r.append_s, readCpuS: r.read_cpu_s, appendCpuS: r.append_cpu_s, bytes: r.bytes, files: r.files, partitioned: r.partitioned };
}

async function offloadViaTemporal(b: Bench, src: Source): Promise<{ run: Run; workerStartS: number }> {
  const table = 'offload_temporal';
  const settings = b.settings({ tag: 'offload_temporal', tables: [bronzeConfig(table, src.table)] });
  const { s: workerStartS, value: worker } = await timed(() => createWorker(settings, { services: b.services }));
  const client = await connectClient(settings.temporal);
  try {
    const { s, value } = await worker.runUntil(() =>
      timed(async () => {
        const h = await client.workflow.start('offloadWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `bench-offload-${Date.now()}`, args: [{ tables: [table] }] });
        return (await h.result()) as OffloadWorkflowResult;
      }),
    );
    const r = value.tables[0]!;
    if (r.rows !== src.rows) throw new Error(`offload workflow moved ${r.rows} rows (${r.status} ${r.reason ?? ''}), expected ${src.rows}`);
    return { run: { s, rows: r.rows, bytes: r.bytes, files: r.files }, workerStartS };
  } finally {
    await client.connection.close();
  }
}

/**
 * The batch write alone (ClickHouse sorts and encodes each partition's file, the worker adopts and uploads it), all
 * of the source as one batch, with `concurrency` files at a time: 1 is the default, 2 the registry's writeConcurrency: 2.
 */
async function batchWrite(b: Bench, src: Source, dir: string, concurrency: number): Promise<Run> {
  const { ch, io } = b.services;
  const { schema, select } = icebergSchemaFromClickHouse(src.table, await describeSource(ch, src.table, src.table));
  const meta = newTableMetadata({ location: newTableLocation(`file://${dir}`, 'cold', `batch_c${concurrency}`), schema, partitionBy: [{ sourceColumn: 'exchange_timestamp', transform: 'day' }], sortBy: [{ sourceColumn: 'symbol' }, { sourceColumn: 'exchange_timestamp' }] });
  const { s, cpuS, value } = await timed(() => writeWithClickHouse(ch, io, meta, {
    table: src.table, src: `\`default\`.\`${src.table}\``, select, where: { sql: '1', params: {} }, sortBy: ['symbol', 'exchange_timestamp'], uniqueKey: ['ingested_at', 'sequence'],
    schema, targetFileSizeBytes: 128 * 1024 * 1024, sortOrderId: 1,
  }, concurrency));
  if (value.rows !== src.rows) throw new Error(`batch write moved ${value.rows} rows, expected ${src.rows}`);
  await Promise.all(value.files.map((f) => io.delete(f.file_path)));
  return { s, cpuS, rows: value.rows, bytes: value.files.reduce((a, f) => a + f.file_size_in_bytes, 0), files: value.files.length };
}

/**
 * Does this ClickHouse run two queries at once? Two halves of the source, each sorted and encoded as Parquet with
 * max_threads = 1, one after the other and then both at once. On a server the pair at once takes about half as long
 * (one core each); embedded chDB executes one query at a time, so there it takes as long, and CPU time ≈ wall time.
 */
async function concurrencyProbe(b: Bench, src: Source, dir: string): Promise<{ serial: Run; together: Run }> {
  const half = (i: number) => {
    const path = join(dir, `probe_${i}.parquet`);
    rmSync(path, { force: true });
    return b.services.ch.command(`SELECT ${src.select.join(', ')} FROM \`default\`.\`${src.table}\` WHERE sequence % 2 = ${i}${src.orderBy} INTO OUTFILE '${path}' TRUNCATE FORMAT Parquet SETTINGS output_format_parquet_compression_method='zstd', max_threads=1`);
  };
  const serial = await timed(async () => { await half(0); await half(1); });
  const together = await timed(() => Promise.all([half(0), half(1)]));
  for (const i of [0, 1]) rmSync(join(dir, `probe_${i}.parquet`), { force: true });
  return { serial: { s: serial.s, cpuS: serial.cpuS, rows: src.rows, bytes: 0 }, together: { s: together.s, cpuS: together.cpuS, rows: src.rows, bytes: 0 } };
}

export async function offloadStep(b: Bench): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const src = await tradeSource(b, 'bench_trades', b.opts.rows);
  const refDir = join(b.dir, 'ref');
  mkdirSync(refDir, { recursive: true });
  const file: Run[] = [];
  const s3: Run[] = [];
  const parquet: Run[] = [];
  const chIce: Run[] = [];
  const py: Array<Awaited<ReturnType<typeof pyiceberg>>> = [];
  // The same without a sort order: PyIceberg's append does not sort, so this pair compares like with like.
  const unsortedSrc: Source = { ...src, orderBy: '' };
  const fileUnsorted: Run[] = [];
  const parquetUnsorted: Run[] = [];
  const pyUnsorted: Array<Awaited<ReturnType<typeof pyiceberg>>> = [];
  const serial: Run[] = [];
  const overlapped: Run[] = [];
  for (let i = 1; i <= b.opts.runs; i++) {
    // Interleaved, so a noisy neighbour slows every contender of a run alike.
    file.push(await offloadDirect(b, 'offload', 'file', `offload_file_${i}`, src));
    b.log(`run ${i}: offload → file warehouse ${file.at(-1)!.s.toFixed(1)} s`);
    if (b.opts.s3) {
      s3.push(await offloadDirect(b, 'offload_s3', 's3', `offload_s3_${i}`, src));
      b.log(`run ${i}: offload → MinIO ${s3.at(-1)!.s.toFixed(1)} s`);
    }
    parquet.push(await parquetExport(b, src, join(refDir, `export_${i}.parquet`)));
    rmSync(join(refDir, `export_${i}.parquet`), { force: true });
    chIce.push(await clickhouseIceberg(b, src, join(refDir, `ch_iceberg_${i}`), `ch_iceberg_${i}`));
    py.push(await pyiceberg(b, src, join(refDir, `pyiceberg_${i}`), `py_${i}`));
    b.log(`run ${i}: ClickHouse Parquet ${parquet.at(-1)!.s.toFixed(1)} s, ClickHouse Iceberg ${chIce.at(-1)!.s.toFixed(1)} s, PyIceberg append ${py.at(-1)!.appendS.toFixed(1)} s (+ read ${py.at(-1)!.readS.toFixed(1)} s, export ${py.at(-1)!.exportS.toFixed(1)} s)`);
    serial.push(await batchWrite(b, src, join(refDir, `batch_serial_${i}`), 1));
    overlapped.push(await batchWrite(b, src, join(refDir, `batch_overlapped_${i}`), 2));
    b.log(`run ${i}: one-batch write, one file at a time ${serial.at(-1)!.s.toFixed(1)} s, two at a time ${overlapped.at(-1)!.s.toFixed(1)} s (${overlapped.at(-1)!.files} files)`);
    fileUnsorted.push(await offloadDirect(b, 'offload_unsorted', 'file', `offload_unsorted_${i}`, src, { sortBy: [] }));
    parquetUnsorted.push(await parquetExport(b, unsortedSrc, join(refDir, `export_unsorted_${i}.parquet`)));
    rmSync(join(refDir, `export_unsorted_${i}.parquet`), { force: true });
    pyUnsorted.push(await pyiceberg(b, unsortedSrc, join(refDir, `pyiceberg_unsorted_${i}`), `py_unsorted_${i}`));
    b.log(`run ${i}, no sort order: offload ${fileUnsorted.at(-1)!.s.toFixed(1)} s, ClickHouse Parquet ${parquetUnsorted.at(-1)!.s.toFixed(1)} s, PyIceberg append ${pyUnsorted.at(-1)!.appendS.toFixed(1)} s (+ read ${pyUnsorted.at(-1)!.readS.toFixed(1)} s, export ${pyUnsorted.at(-1)!.exportS.toFixed(1)} s)`);
  }
  const phaseNames = [...new Set(file.flatMap((r) => Object.keys(r.phases ?? {})))];
  const phases = Object.fromEntries(phaseNames.map((n) => [n, median(file.map((r) => r.phases?.[n] ?? 0))]));
  b.log(`offload phases (median s): ${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('; ')}`);
  const probe = await concurrencyProbe(b, src, refDir);
  b.log(`chDB concurrency probe: two single-threaded sort + Parquet queries one after the other ${probe.serial.s.toFixed(1)} s (CPU ${probe.serial.cpuS!.toFixed(1)} s), both at once ${probe.together.s.toFixed(1)} s (CPU ${probe.together.cpuS!.toFixed(1)} s)`);
  const temporal = await offloadViaTemporal(b, src);
  b.log(`offload through Temporal ${temporal.run.s.toFixed(1)} s (worker start ${temporal.workerStartS.toFixed(1)} s, not counted)`);

  let profile: Record<string, unknown> | undefined;
  if (b.opts.profile) {
    const path = join(b.dir, '..', 'offload.cpuprofile');
    const run = await profiled(path, () => offloadDirect(b, 'offload', 'file', 'offload_profiled', src));
    const cpu = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
    const top = selfTimes(cpu, 20);
    const categories = categoryTimes(cpu);
    profile = { path, wallS: run.s, phases: run.phases, top, categories };
    b.log(`profiled offload (${run.s.toFixed(1)} s) → ${path}`);
    console.log(['| self ms | % of wall | function | where |', '|---|---|---|---|', ...top.map((e) => `| ${e.ms.toFixed(0)} | ${e.pct.toFixed(1)} | ${e.fn} | ${e.where} |`)].join('\n'));
    console.log(['', '| self ms | % | category |', '|---|---|---|', ...categories.map((c) => `| ${c.ms.toFixed(0)} | ${c.pct.toFixed(1)} | ${c.category} |`)].join('\n'));
  }

  const pyAppend = py.map((p) => src.rows / p.appendS);
  const pyReadAppend = py.map((p) => src.rows / (p.readS + p.appendS));
  const pyE2e = py.map((p) => src.rows / (p.exportS + p.readS + p.appendS));
  const fileRates = file.map(rate);
  const ref = (name: string, samples: number[]) => ({ name, value: median(samples), samples });
  // The ratio is the median of per-run ratios: each run's offload against the reference measured right after it,
  // so a noisy neighbour that slows one run slows both sides of that ratio. The ratio of medians is kept too.
  const vs = (name: string, samples: number[], target?: number, rates = fileRates) => {
    const ratios = rates.map((x, i) => x / samples[i]!);
    const ratio = median(ratios);
    return { reference: ref(name, samples), ratio, ratioSpread: [Math.min(...ratios), Math.max(...ratios)] as [number, number], ratioOfMedians: median(rates) / median(samples), ...(target ? { target: `≥ ${target}×`, met: ratio >= target } : {}) };
  };
  const unsortedRates = fileUnsorted.map(rate);
  const unsorted = { step: 'offload' as const, unit: 'rows/s', value: median(unsortedRates), samples: unsortedRates, name: 'offload activity, table without a sort order (sortBy: [])' };
  const base = { step: 'offload' as const, unit: 'rows/s', value: median(fileRates), samples: fileRates };
  const pyNote = py[0]?.partitioned === false ? 'PyIceberg unpartitioned: pyiceberg-core missing' : undefined;
  const figures: Figure[] = [
    { ...base, name: `offload activity → file warehouse, ${src.rows / 1e6}M rows`, ...vs('ClickHouse Parquet export (zstd)', parquet.map(rate), 1.0) },
    { ...base, name: 'offload activity → file warehouse', ...vs('ClickHouse IcebergLocal INSERT', chIce.map(rate), 0.8), note: 'CH writes Decimal as Float64' },
    // The target's PyIceberg reference is append() "of the same rows, read from the same ClickHouse as Arrow": the
    // whole path below (export + read + append). The in-memory append alone skips the read (and, unsorted, the sort).
    { ...base, name: 'offload activity → file warehouse', ...vs('PyIceberg append (rows in memory)', pyAppend), note: `excludes reading ClickHouse${pyNote ? `; ${pyNote}` : ''}` },
    { ...base, name: 'offload activity → file warehouse', ...vs('PyIceberg read Arrow file + append', pyReadAppend) },
    { ...base, name: 'offload activity → file warehouse', ...vs('chDB Arrow export + PyIceberg read + append', pyE2e, 1.5) },
    { ...unsorted, ...vs('ClickHouse Parquet export (zstd), no ORDER BY', parquetUnsorted.map(rate), undefined, unsortedRates) },
    { ...unsorted, ...vs('PyIceberg append (rows in memory)', pyUnsorted.map((p) => src.rows / p.appendS), undefined, unsortedRates), note: 'excludes reading ClickHouse' },
    { ...unsorted, ...vs('chDB Arrow export (no ORDER BY) + PyIceberg read + append', pyUnsorted.map((p) => src.rows / (p.exportS + p.readS + p.appendS)), 1.5, unsortedRates) },
    { step: 'offload', name: 'offload activity → file warehouse, Parquet written', unit: 'MB/s', value: median(file.map(mbps)), samples: file.map(mbps), reference: ref('ClickHouse Parquet export', parquet.map(mbps)), ratio: median(file.map((r, i) => mbps(r) / mbps(parquet[i]!))) },
    { step: 'offload', name: 'offload activity, peak RSS of the bench process (incl. chDB)', unit: 'MB', value: median(file.map((r) => r.peakRssMb!)), samples: file.map((r) => r.peakRssMb!), note: `RSS before: ${median(file.map((r) => r.startRssMb!)).toFixed(0)} MB` },
  ];
  const overlapRatios = overlapped.map((r, i) => rate(r) / rate(serial[i]!));
  figures.push({
    step: 'offload', name: `batch write alone (${src.rows / 1e6}M rows as one batch), files encoded and uploaded two at a time (writeConcurrency: 2)`, unit: 'rows/s', value: median(overlapped.map(rate)), samples: overlapped.map(rate),
    reference: ref('one file at a time (writeConcurrency: 1, the default)', serial.map(rate)), ratio: median(overlapRatios), ratioSpread: [Math.min(...overlapRatios), Math.max(...overlapRatios)], ratioOfMedians: median(overlapped.map(rate)) / median(serial.map(rate)),
  });
  // The same comparisons in rows per CPU-second: what each path costs, whatever the neighbours do to wall time.
  const cpuRate = (r: Run) => r.rows / r.cpuS!;
  const fileCpu = file.map(cpuRate);
  const vsCpu = (name: string, samples: number[]) => ({
    reference: ref(name, samples),
    ratio: median(fileCpu.map((x, i) => x / samples[i]!)),
    ratioOfMedians: median(fileCpu) / median(samples),
  });
  const cpuBase = { step: 'offload' as const, unit: 'rows/CPU-s', value: median(fileCpu), samples: fileCpu, name: 'offload activity, rows per CPU-second (JS + chDB)' };
  figures.push(
    { ...cpuBase, ...vsCpu('ClickHouse Parquet export', parquet.map(cpuRate)) },
    { ...cpuBase, ...vsCpu('ClickHouse IcebergLocal INSERT', chIce.map(cpuRate)) },
    { ...cpuBase, ...vsCpu('PyIceberg append', py.map((p) => src.rows / p.appendCpuS)) },
    { ...cpuBase, ...vsCpu('chDB Arrow export + PyIceberg read + append', py.map((p) => src.rows / (p.exportCpuS + p.readCpuS + p.appendCpuS))) },
  );
  if (s3.length) {
    figures.push({ step: 'offload', name: 'offload activity → MinIO (s3://)', unit: 'rows/s', value: median(s3.map(rate)), samples: s3.map(rate), reference: ref('offload → file warehouse', fileRates), ratio: median(s3.map((r, i) => rate(r) / fileRates[i]!)) });
  }
  figures.push({
    step: 'offload', name: 'two single-threaded sort + Parquet queries (halves of the source) at once, wall time', unit: 's', value: probe.together.s, samples: [probe.together.s],
    reference: ref('the same two one after the other', [probe.serial.s]), ratio: probe.serial.s / probe.together.s,
    note: `speed-up of running them at once (2 on a server with 2 idle cores); CPU ${probe.together.cpuS!.toFixed(1)} s at once vs ${probe.serial.cpuS!.toFixed(1)} s in series`,
  });
  figures.push({ step: 'offload', name: 'offload workflow through Temporal (1 run)', unit: 'rows/s', value: rate(temporal.run), samples: [rate(temporal.run)], reference: ref('direct activity call', fileRates), ratio: rate(temporal.run) / median(fileRates) });
  return {
    figures,
    details: {
      rows: src.rows,
      select: src.select,
      orderBy: src.orderBy,
      offloadPhasesMedianS: phases,
      offloadFile: file,
      offloadS3: s3,
      offloadTemporal: temporal,
      clickhouseParquet: parquet,
      clickhouseIceberg: chIce,
      pyiceberg: py,
      offloadUnsorted: fileUnsorted,
      clickhouseParquetUnsorted: parquetUnsorted,
      pyicebergUnsorted: pyUnsorted,
      batchWriteSerial: serial,
      batchWriteOverlapped: overlapped,
      concurrencyProbe: probe,
      ...(profile ? { profile } : {}),
    },
  };
}
