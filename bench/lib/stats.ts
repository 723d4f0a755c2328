/** Median of the samples (mean of the middle two for an even count). */
export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(s.length, rank) - 1]!;
}

/**
 * Wall time of `fn` in seconds, with its result, and the CPU seconds this process spent meanwhile (all threads:
 * JS, libuv, and the in-process chDB engine). CPU time barely moves when a neighbour steals the cores, so it is
 * the steadier measure of cost on a shared machine.
 */
export async function timed<T>(fn: () => Promise<T>): Promise<{ s: number; cpuS: number; value: T }> {
  const t = performance.now();
  const c = process.cpuUsage();
  const value = await fn();
  const d = process.cpuUsage(c);
  return { s: (performance.now() - t) / 1000, cpuS: (d.user + d.system) / 1e6, value };
}

export const MB = 1_000_000;
export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
