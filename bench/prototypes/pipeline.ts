// Prototype: overlap reading batch k+1 from ClickHouse with encoding batch k, and encode in worker_threads.
// Usage: tsx bench/prototypes/pipeline.ts [--rows N] [--runs K]
// Variants (same batches, same data, same run; commits left out of all of them):
//   sequential    the offload today: read batch → writeDataFiles → next batch
//   prefetch      start reading batch k+1 before encoding batch k on the main thread (no threads)
//   worker×1      main thread reads, one worker thread decodes + encodes + writes (read k+1 ∥ encode k)
//   worker×2      two worker threads: two batches encode while the third is read
import { Worker } from 'node:worker_threads';
import { ARROW_SETTINGS } from '../../src/clickhouse/client';
import { createFileIO, writeDataFiles, type DataFile, type TableMetadata } from '../../src/iceberg';
import { memoryOf, resetPeak } from '../lib/proc';
import { median, timed } from '../lib/stats';
import { openProto, type Proto } from './setup';

async function readIPC(p: Proto, i: number): Promise<Uint8Array> {
  const q = p.batchQuery(i);
  const res = await p.ch.client.exec({ query: `${q.query} FORMAT ArrowStream`, query_params: q.params, clickhouse_settings: { ...ARROW_SETTINGS } });
  const chunks: Buffer[] = [];
  for await (const c of res.stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const io = createFileIO({});
const sortOrderId = 1;

async function sequential(p: Proto, meta: TableMetadata): Promise<number> {
  let rows = 0;
  for (let i = 0; i < p.batches.length; i++) {
    const q = p.batchQuery(i);
    const t = await p.ch.arrow(q.query, q.params);
    const files = await writeDataFiles(io, meta, t, { sortOrderId });
    rows += files.reduce((a, f) => a + f.record_count, 0);
  }
  return rows;
}

async function prefetch(p: Proto, meta: TableMetadata): Promise<number> {
  let rows = 0;
  let next = p.ch.arrow(p.batchQuery(0).query, p.batchQuery(0).params);
  for (let i = 0; i < p.batches.length; i++) {
    const t = await next;
    if (i + 1 < p.batches.length) next = p.ch.arrow(p.batchQuery(i + 1).query, p.batchQuery(i + 1).params);
    const files = await writeDataFiles(io, meta, t, { sortOrderId });
    rows += files.reduce((a, f) => a + f.record_count, 0);
  }
  return rows;
}

function pool(n: number) {
  const workers = Array.from({ length: n }, () => new Worker(new URL('./encode-worker.mjs', import.meta.url)));
  const idle = [...workers];
  const waiting: Array<(w: Worker) => void> = [];
  let seq = 0;
  const acquire = () => new Promise<Worker>((r) => (idle.length ? r(idle.pop()!) : waiting.push(r)));
  const release = (w: Worker) => (waiting.length ? waiting.shift()!(w) : idle.push(w));
  return {
    async encode(ipc: Uint8Array, meta: TableMetadata): Promise<DataFile[]> {
      const w = await acquire();
      const id = ++seq;
      try {
        return await new Promise<DataFile[]>((resolve, reject) => {
          const on = (m: { id: number; files?: DataFile[]; error?: string }) => {
            if (m.id !== id) return;
            w.off('message', on);
            if (m.error) reject(new Error(m.error));
            else resolve(m.files!);
          };
          w.on('message', on);
          w.postMessage({ id, ipc, meta, sortOrderId }, [ipc.buffer as ArrayBuffer]);
        });
      } finally {
        release(w);
      }
    },
    /** Resolves once every worker can take work (so the pool's own start-up is not timed). */
    idle: () => Promise.all(workers.map((w) => new Promise((r) => (w.threadId > 0 ? r(null) : w.once('online', r))))),
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

async function threaded(p: Proto, meta: TableMetadata, workers: ReturnType<typeof pool>, inFlight: number): Promise<number> {
  const pending: Array<Promise<DataFile[]>> = [];
  let rows = 0;
  for (let i = 0; i < p.batches.length; i++) {
    // Copy into a standalone ArrayBuffer so it can be transferred (Buffer.concat may return a pooled slice).
    const ipc = new Uint8Array(await readIPC(p, i));
    pending.push(workers.encode(ipc, meta));
    if (pending.length >= inFlight) rows += (await pending.shift()!).reduce((a, f) => a + f.record_count, 0);
  }
  for (const f of await Promise.all(pending)) rows += f.reduce((a, x) => a + x.record_count, 0);
  return rows;
}

const p = await openProto();
console.error(`${p.rows} rows in ${p.batches.length} batches; ${p.runs} runs per variant`);
const one = pool(1);
const two = pool(2);
await Promise.all([one.idle(), two.idle()]);
const variants: Record<string, (meta: TableMetadata) => Promise<number>> = {
  sequential: (m) => sequential(p, m),
  prefetch: (m) => prefetch(p, m),
  'worker×1': (m) => threaded(p, m, one, 2),
  'worker×2': (m) => threaded(p, m, two, 3),
};
// Warm up (wasm compile, JIT) so the first variant is not penalised.
await (variants['sequential'] as (m: TableMetadata) => Promise<number>)(p.table('warmup'));
const times: Record<string, number[]> = {};
const peaks: Record<string, number[]> = {};
for (let r = 0; r < p.runs; r++) {
  for (const [name, fn] of Object.entries(variants)) {
    resetPeak('self');
    const { s, value } = await timed(() => fn(p.table(`${name}-${r}`)));
    if (value !== p.rows) throw new Error(`${name} wrote ${value} rows, expected ${p.rows}`);
    (times[name] ??= []).push(s);
    (peaks[name] ??= []).push(memoryOf('self').hwmMb);
    console.error(`run ${r + 1} ${name}: ${s.toFixed(2)} s`);
  }
}
await Promise.all([one.close(), two.close()]);
await p.close();
const base = median(times['sequential']!);
console.log('| variant | median s | rows/s | vs sequential | process peak RSS MB (median) |\n|---|---|---|---|---|');
for (const [name, xs] of Object.entries(times)) {
  console.log(`| ${name} | ${median(xs).toFixed(2)} | ${(p.rows / median(xs) / 1000).toFixed(0)}k | ${(base / median(xs)).toFixed(2)}× | ${median(peaks[name]!).toFixed(0)} |`);
}
