import { readFileSync, writeFileSync } from 'node:fs';

/** Resident set size now and its high-water mark, in MB (from /proc/<pid>/status). */
export function memoryOf(pid: number | 'self'): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Resets VmHWM to the current RSS (clear_refs 5), so the next peak belongs to what runs next. */
export function resetPeak(pid: number | 'self'): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface RssTrace {
  /** VmHWM at the end: the true peak, even of phases the sampler could not observe (a busy event loop). */
  peakMb: number;
  /** RSS when sampling started. */
  startMb: number;
  /** [seconds since start, RSS MB] every interval (when the event loop was free to sample). */
  samples: Array<[number, number]>;
}

/**
 * Samples a process's RSS while `fn` runs. The high-water mark is reset first, so `peakMb` is the peak during `fn`.
 */
export async function traceRss<T>(pid: number | 'self', fn: () => Promise<T>, intervalMs = 200): Promise<{ value: T; trace: RssTrace }> {
  resetPeak(pid);
  const t0 = performance.now();
  const startMb = memoryOf(pid).rssMb;
  const samples: Array<[number, number]> = [];
  const timer = setInterval(() => {
    try {
      samples.push([(performance.now() - t0) / 1000, memoryOf(pid).rssMb]);
    } catch {
      // the process exited
    }
  }, intervalMs);
  try {
    const value = await fn();
    return { value, trace: { peakMb: memoryOf(pid).hwmMb, startMb, samples } };
  } finally {
    clearInterval(timer);
  }
}

/** The largest sampled RSS in each of `parts` equal slices of the trace's duration (growth shows as a rising series). */
export function peaksBySlice(trace: RssTrace, parts = 4): number[] {
  const end = trace.samples.at(-1)?.[0] ?? 0;
  const out = new Array<number>(parts).fill(0);
  for (const [t, mb] of trace.samples) {
    const i = Math.min(parts - 1, Math.floor((t / (end || 1)) * parts));
    out[i] = Math.max(out[i]!, mb);
  }
  return out;
}
