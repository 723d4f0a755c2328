// 4. Compaction: many small files of one partition → target-size files through the maintenance compact activity,
// against a plain read-every-file-and-rewrite-one-Parquet (parquet-wasm) of the same files in the same run.
import { join } from 'node:path';
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { createActivities } from '../../src/activities';
import { commitAppend } from '../../src/activities/commit';
import { ensureTable } from '../../src/activities/tables';
import { describeSource } from '../../src/clickhouse/client';
import { tableConfigSchema } from '../../src/config/tables';
import { writeDataFiles, type DataFile } from '../../src/iceberg';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { bronzeConfig, type Bench } from '../lib/context';
import { tradeSource } from '../lib/data';
import type { Figure } from '../lib/report';
import { MB, median, timed } from '../lib/stats';

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

export async function compactStep(b: Bench): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const { compactFiles: nFiles, compactFileRows: perFile, runs } = b.opts;
  const rows = nFiles * perFile;
  // One UTC day (noon yesterday, one hour of event time), so all small files share one partition.
  const noon = new Date(Math.floor(Date.now() / DAY) * DAY - DAY / 2);
  const src = await tradeSource(b, 'compact_src', rows, { spreadSeconds: 3600, eventTimeEnd: noon });
  const names = Array.from({ length: runs }, (_, i) => `compact_${i + 1}`);
  const settings = b.settings({ tag: 'compact', tables: ['compact_seed', ...names].map((n) => bronzeConfig(n, src.table)) });
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
  b.log(`wrote ${files.length} small files (${(inputBytes / MB).toFixed(1)} MB, ${rows} rows) in ${seedS.toFixed(1)} s`);

  const acts = createActivities({ settings, pool, ch, io });
  const compact: number[] = [];
  const plain: number[] = [];
  const results = [];
  for (const [i, name] of names.entries()) {
    const cfgI = tableConfigSchema.parse(bronzeConfig(name, src.table));
    const table = await ensureTable({ settings, pool, ch, io }, cfgI, id(name), schema);
    await commitAppend(pool, io, table, { id: id(name), files, summary: { 'coldtier.bench': 'small files' } });
    const { s, value } = await timed(() => acts.compactTable({ table: name, targetFileSizeMb: 128, minInputFiles: 5, dryRun: false }));
    if (value.status !== 'compacted' || value.filesRewritten !== files.length) throw new Error(`compaction of ${name}: ${value.status}, ${value.filesRewritten} files rewritten`);
    compact.push(s);
    results.push(value);
    const { s: ps } = await timed(() => plainRewrite(b, files, `file://${join(b.dir, 'ref', `plain_rewrite_${i + 1}.parquet`)}`));
    plain.push(ps);
    b.log(`run ${i + 1}: compact ${files.length} → ${value.filesAfter} files in ${s.toFixed(1)} s; plain rewrite ${ps.toFixed(1)} s`);
  }
  const mbps = (xs: number[]) => xs.map((s) => inputBytes / MB / s);
  const c = mbps(compact);
  const p = mbps(plain);
  return {
    figures: [
      { step: 'compact', name: `compact ${files.length} small files (${(inputBytes / MB).toFixed(0)} MB) → ${results[0]?.filesAfter ?? '?'} file(s), input MB/s`, unit: 'MB/s', value: median(c), samples: c, reference: { name: 'parquet-wasm read-all + rewrite', value: median(p), samples: p }, ratio: median(c) / median(p) },
    ],
    details: { rows, inputBytes, inputFiles: files.length, compactS: compact, plainS: plain, results },
  };
}
