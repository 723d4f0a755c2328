// Prototype: streaming Arrow batches into a streaming Parquet writer, against today's whole-batch path, for the
// memory of one offload batch. Each variant runs in its own child process (WebAssembly memory never shrinks, so a
// shared process would carry one variant's peak into the other).
// Usage: tsx bench/prototypes/stream-memory.ts [--rows N (one batch, default 1000000)] [--runs K]
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Table, tableFromIPC, tableToIPC, type RecordBatch } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { conformToSchema } from '../../src/iceberg/arrow/arrow-schema';
import { createFileIO, writeDataFiles } from '../../src/iceberg';
import { groupByPartition } from '../../src/iceberg/writer/partitioner';
import { arrowMetrics } from '../../src/iceberg/writer/metrics';
import { defaultSpec } from '../../src/iceberg/spec/table-metadata';
import { memoryOf } from '../lib/proc';
import { median, timed } from '../lib/stats';
import { openProto, PROTO_DIR, type Proto } from './setup';

const variant = process.argv.includes('--variant') ? process.argv[process.argv.indexOf('--variant') + 1] : undefined;

async function today(p: Proto): Promise<number> {
  const q = p.batchQuery(0);
  const files = await writeDataFiles(createFileIO({}), p.table('today'), await p.ch.arrow(q.query, q.params), { sortOrderId: 1 });
  return files.reduce((a, f) => a + f.record_count, 0);
}

/** One Parquet file being written from a stream of record batches (one partition). */
function openWriter(path: string) {
  let push!: (b: pw.RecordBatch | null) => void;
  const input = new ReadableStream<pw.RecordBatch>({ start: (c) => void (push = (b) => (b ? c.enqueue(b) : c.close())) });
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(1024 * 1024).build();
  const done = (async () => {
    await mkdir(dirname(path), { recursive: true });
    const out = await pw.transformParquetStream(input, props);
    const file = createWriteStream(path);
    Readable.fromWeb(out as never).pipe(file);
    await finished(file);
  })();
  return {
    write(batch: RecordBatch) {
      for (const b of pw.Table.fromIPCStream(tableToIPC(new Table([batch]), 'stream')).recordBatches()) push(b);
    },
    close: async () => {
      push(null);
      await done;
    },
  };
}

async function streamed(p: Proto): Promise<number> {
  const meta = p.table('stream');
  const spec = defaultSpec(meta);
  // chDB's queryStream yields chunks, each a complete Arrow stream (a ClickHouse server's HTTP body read with
  // RecordBatchReader would behave the same). The batch query is inlined: queryStream takes no parameters.
  const { createChdbConnection } = await import('chdb/connection');
  const conn = createChdbConnection({ path: join(PROTO_DIR, 'chdb') });
  const sql = `SELECT ${p.select.join(', ')} FROM \`default\`.\`trades\` ORDER BY toDate(exchange_timestamp, 'UTC'), symbol, exchange_timestamp SETTINGS output_format_arrow_compression_method='none', output_format_arrow_string_as_string=1, output_format_arrow_low_cardinality_as_dictionary=0`;
  let rows = 0;
  let current: { key: string; w: ReturnType<typeof openWriter> } | undefined;
  let n = 0;
  for await (const chunk of conn.chdb.queryStream(sql, { format: 'ArrowStream' })) {
    const t = conformToSchema(tableFromIPC(chunk.raw()), p.schema);
    for (const g of groupByPartition(t, spec, p.schema)) {
      const key = JSON.stringify(g.values);
      if (current?.key !== key) {
        await current?.w.close();
        current = { key, w: openWriter(join(PROTO_DIR, 'warehouse', 'stream', `p${key.replace(/\W/g, '')}-${++n}.parquet`)) };
      }
      for (const r of g.runs) {
        const slice = t.batches[r.batch]!.slice(r.start, r.end);
        arrowMetrics(new Table([slice]), p.schema);
        current.w.write(slice);
        rows += slice.numRows;
      }
    }
  }
  await current?.w.close();
  await conn.close();
  return rows;
}

if (variant) {
  const p = await openProto(['--rows', process.argv[process.argv.indexOf('--rows') + 1] ?? '1000000']);
  // The source table is set up; measure only the batch.
  const before = memoryOf('self');
  const { s, value } = await timed(() => (variant === 'today' ? today(p) : streamed(p)));
  const after = memoryOf('self');
  await p.close();
  console.log(JSON.stringify({ variant, s, rows: value, baseMb: before.rssMb, peakMb: after.hwmMb }));
  process.exit(0);
}

const rows = process.argv.includes('--rows') ? process.argv[process.argv.indexOf('--rows') + 1]! : '1000000';
const runs = Number(process.argv.includes('--runs') ? process.argv[process.argv.indexOf('--runs') + 1] : 3);
const self = fileURLToPath(import.meta.url);
const out: Record<string, Array<{ s: number; peakMb: number; baseMb: number; rows: number }>> = { today: [], stream: [] };
for (let r = 0; r < runs; r++) {
  for (const v of ['today', 'stream']) {
    const line = execFileSync(process.execPath, ['--import', 'tsx', self, '--variant', v, '--rows', rows], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
    const res = JSON.parse(line) as { s: number; peakMb: number; baseMb: number; rows: number };
    if (res.rows !== Number(rows)) throw new Error(`${v} wrote ${res.rows} rows, expected ${rows}`);
    out[v]!.push(res);
    console.error(`run ${r + 1} ${v}: ${res.s.toFixed(2)} s, peak RSS ${res.peakMb.toFixed(0)} MB (before the batch ${res.baseMb.toFixed(0)} MB, incl. chDB)`);
  }
}
console.log(`| one ${Number(rows) / 1e6}M-row batch | median s | peak RSS MB | peak − RSS before batch |\n|---|---|---|---|`);
for (const [v, xs] of Object.entries(out)) {
  console.log(`| ${v === 'today' ? 'today: whole batch → writeDataFiles' : 'streamed batches → transformParquetStream'} | ${median(xs.map((x) => x.s)).toFixed(2)} | ${median(xs.map((x) => x.peakMb)).toFixed(0)} | ${median(xs.map((x) => x.peakMb - x.baseMb)).toFixed(0)} |`);
}
