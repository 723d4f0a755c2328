// Prototype: let ClickHouse encode the Parquet files (FORMAT Parquet, zstd, one query per partition of a batch) and
// rewrite only the footer to add the Iceberg field ids, instead of Arrow → parquet-wasm in the worker.
// Usage: tsx bench/prototypes/clickhouse-parquet.ts [--rows N] [--runs K]
// Both variants write the same batches' files to a file:// warehouse; commits are left out of both.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parquetMetadata } from 'hyparquet';
import { createFileIO, joinUri, readDataFile, writeDataFiles, type TableMetadata } from '../../src/iceberg';
import { footerMetrics } from '../../src/iceberg/writer/metrics';
import { python } from '../lib/python';
import { memoryOf, resetPeak } from '../lib/proc';
import { median, timed } from '../lib/stats';
import { withFieldIds } from './parquet-footer';
import { openProto, type Proto } from './setup';

const io = createFileIO({});

async function current(p: Proto, meta: TableMetadata): Promise<{ rows: number; bytes: number }> {
  let rows = 0;
  let bytes = 0;
  for (let i = 0; i < p.batches.length; i++) {
    const q = p.batchQuery(i);
    const files = await writeDataFiles(io, meta, await p.ch.arrow(q.query, q.params), { sortOrderId: 1 });
    rows += files.reduce((a, f) => a + f.record_count, 0);
    bytes += files.reduce((a, f) => a + f.file_size_in_bytes, 0);
  }
  return { rows, bytes };
}

async function clickhouseEncoded(p: Proto, meta: TableMetadata, written: string[], extra: Record<string, number> = {}): Promise<{ rows: number; bytes: number }> {
  const ids = new Map(p.schema.fields.map((f) => [f.name, f.id]));
  let rows = 0;
  let bytes = 0;
  for (let i = 0; i < p.batches.length; i++) {
    const w = p.batches[i]!.where;
    const days = await p.ch.json<{ d: string }>(`SELECT toString(toDate(exchange_timestamp, 'UTC')) AS d FROM \`default\`.\`trades\` WHERE ${w.sql} GROUP BY d ORDER BY d`, w.params);
    for (const { d } of days) {
      const q = p.batchQuery(i, `toDate(exchange_timestamp, 'UTC') = toDate('${d}')`, ' ORDER BY `symbol`, `exchange_timestamp`');
      const res = await p.ch.client.exec({ query: `${q.query} FORMAT Parquet`, query_params: q.params, clickhouse_settings: { output_format_parquet_compression_method: 'zstd', ...extra } });
      const chunks: Buffer[] = [];
      for await (const c of res.stream) chunks.push(c as Buffer);
      const file = withFieldIds(Buffer.concat(chunks), ids);
      const uri = joinUri(meta.location, `data/exchange_timestamp_day=${d}/00000-0-${randomUUID()}-00001.parquet`);
      await io.write(uri, file);
      written.push(uri);
      // What the manifest entry needs: sizes and offsets (as today) and the bounds, here from the footer statistics.
      const footer = footerMetrics(file);
      const stats = parquetMetadata(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer).row_groups.flatMap((rg) => rg.columns.map((c) => c.meta_data?.statistics));
      if (stats.some((s) => !s)) throw new Error('a column chunk has no statistics');
      rows += footer.row_count;
      bytes += file.byteLength;
    }
  }
  return { rows, bytes };
}

const p = await openProto();
console.error(`${p.rows} rows in ${p.batches.length} batches; ${p.runs} runs per variant`);
await current(p, p.table('warmup'));
const NO_BLOOM = 'same, without bloom filters';
const times: Record<string, number[]> = { 'arrow → parquet-wasm (today)': [], 'ClickHouse FORMAT Parquet + footer rewrite': [], [NO_BLOOM]: [] };
const peaks: Record<string, number[]> = { 'arrow → parquet-wasm (today)': [], 'ClickHouse FORMAT Parquet + footer rewrite': [], [NO_BLOOM]: [] };
const sizes: Record<string, number> = {};
const written: string[] = [];
for (let r = 0; r < p.runs; r++) {
  resetPeak('self');
  const a = await timed(() => current(p, p.table(`today-${r}`)));
  peaks['arrow → parquet-wasm (today)']!.push(memoryOf('self').hwmMb);
  resetPeak('self');
  const b = await timed(() => clickhouseEncoded(p, p.table(`ch-${r}`), written));
  peaks['ClickHouse FORMAT Parquet + footer rewrite']!.push(memoryOf('self').hwmMb);
  resetPeak('self');
  const c = await timed(() => clickhouseEncoded(p, p.table(`ch-nobloom-${r}`), [], { output_format_parquet_write_bloom_filter: 0 }));
  peaks[NO_BLOOM]!.push(memoryOf('self').hwmMb);
  for (const x of [a, b, c]) if (x.value.rows !== p.rows) throw new Error(`wrote ${x.value.rows} rows, expected ${p.rows}`);
  times['arrow → parquet-wasm (today)']!.push(a.s);
  times['ClickHouse FORMAT Parquet + footer rewrite']!.push(b.s);
  times[NO_BLOOM]!.push(c.s);
  sizes['arrow → parquet-wasm (today)'] = a.value.bytes;
  sizes['ClickHouse FORMAT Parquet + footer rewrite'] = b.value.bytes;
  sizes[NO_BLOOM] = c.value.bytes;
  console.error(`run ${r + 1}: today ${a.s.toFixed(2)} s, ClickHouse-encoded ${b.s.toFixed(2)} s, without bloom filters ${c.s.toFixed(2)} s`);
}

// The rewritten files must read like coldtier's own: columns resolved by field id, Iceberg-typed.
const sample = written[0]!;
const back = await readDataFile(io, sample, p.schema.fields);
const pyIds = execFileSync(python(), ['-c', `import pyarrow.parquet as pq,sys; s=pq.read_schema(sys.argv[1]); print(','.join(f.name+'='+f.metadata[b'PARQUET:field_id'].decode() for f in s))`, sample.slice('file://'.length)]).toString().trim();
const chCount = await p.ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM file('${sample.slice('file://'.length)}', Parquet)`);
await p.close();
const base = median(times['arrow → parquet-wasm (today)']!);
console.log('| variant | median s | rows/s | vs today | Parquet MB | process peak RSS MB |\n|---|---|---|---|---|---|');
for (const [name, xs] of Object.entries(times)) {
  console.log(`| ${name} | ${median(xs).toFixed(2)} | ${(p.rows / median(xs) / 1000).toFixed(0)}k | ${(base / median(xs)).toFixed(2)}× | ${(sizes[name]! / 1e6).toFixed(1)} | ${median(peaks[name]!).toFixed(0)} |`);
}
console.log(`\ncheck: ${sample.split('/').slice(-2).join('/')}: readDataFile → ${back.numRows} rows; pyarrow field ids ${pyIds}; ClickHouse reads ${chCount[0]!.n} rows`);
