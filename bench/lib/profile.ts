import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/** A V8 CPU profile (the format `node --cpu-prof` writes). */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  pct: number;
}

/** Runs `fn` under the V8 CPU profiler of this process and writes the profile to `path` (open it in Chrome DevTools). */
export async function profiled<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(path, JSON.stringify(profile));
    session.disconnect();
  }
}

const shortUrl = (url: string): string => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*\/(src|bench)\//, '$1/');

/** What a sample was doing, by the function's source: the buckets the performance doc reasons about. */
export function category(fn: string, url: string): string {
  if (fn === '(idle)') return 'idle: JS thread waiting (chDB query, file/S3 I/O, Postgres)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (url.startsWith('wasm://')) return 'parquet-wasm (Parquet encode/decode in WebAssembly)';
  if (url.includes('src/iceberg/writer/metrics')) return 'coldtier: column metrics (min/max bounds per file)';
  if (url.includes('src/iceberg/writer/partitioner')) return 'coldtier: partition grouping';
  if (url.includes('/src/iceberg/arrow/')) return 'coldtier: Arrow helpers (conform/sort/read)';
  if (url.includes('apache-arrow')) return 'apache-arrow JS (IPC encode/decode, copies)';
  if (url.startsWith('node:buffer') || fn === '_copyActual') return 'Buffer.concat copies (node:buffer)';
  if (url.includes('hyparquet')) return 'hyparquet (footer parse)';
  if (url.includes('avsc')) return 'avsc (manifests)';
  if (url.includes('/src/')) return 'coldtier: other';
  if (url.includes('node_modules')) return 'other libraries';
  return 'node internals / other';
}

/** Self time per category, biggest first; the profiler's own stop (inspector dispatch) is left out. */
export function categoryTimes(p: CpuProfile): Array<{ category: string; ms: number; pct: number }> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === 'dispatch' && !f.url) return;
    const t = (p.timeDeltas[i] ?? 0) / 1000;
    total += t;
    const c = category(f.functionName, f.url);
    ms.set(c, (ms.get(c) ?? 0) + t);
  });
  return [...ms].map(([c, t]) => ({ category: c, ms: t, pct: (100 * t) / total })).sort((a, b) => b.ms - a.ms);
}

/** Self time per function (summed over call sites), biggest first. */
export function selfTimes(p: CpuProfile, top = 15): SelfTime[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ms = new Map<number, number>();
  p.samples.forEach((id, i) => ms.set(id, (ms.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const total = (p.endTime - p.startTime) / 1000;
  const agg = new Map<string, SelfTime>();
  for (const [id, t] of ms) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === 'dispatch' && !f.url) continue;
    const fn = f.functionName || '(anonymous)';
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = agg.get(key) ?? { fn, where, ms: 0, pct: 0 };
    e.ms += t;
    agg.set(key, e);
  }
  return [...agg.values()]
    .map((e) => ({ ...e, pct: (100 * e.ms) / total }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
}
