import { quote, type ClickHouse } from './client';
import type { WatermarkKey } from './range';

/**
 * Row identity for anti-joins between ClickHouse and Iceberg: the watermark key columns, each rendered the same way
 * on both sides (timestamps as integer microseconds since the epoch, everything else as its decimal/text form).
 */
const isTime = (type: string) => /^(Nullable\()?DateTime/.test(type);

/** SELECT list of canonical key strings k0..kn plus the raw values r0..rn (for bound parameters). */
export function keySelect(k: WatermarkKey): string {
  return k.columns
    .map((c, i) => {
      const canon = isTime(k.types[i]!) ? `toString(toUnixTimestamp64Micro(toDateTime64(${quote(c)}, 6)))` : `toString(${quote(c)})`;
      return `${canon} AS k${i}, toString(${quote(c)}) AS r${i}`;
    })
    .join(', ');
}

export interface SourceKey {
  canonical: string;
  raw: string[];
}

export async function sourceKeys(ch: ClickHouse, table: string, k: WatermarkKey, where: string, params: Record<string, unknown>): Promise<SourceKey[]> {
  const rows = await ch.json<Record<string, string>>(`SELECT ${keySelect(k)} FROM ${table} WHERE ${where} ORDER BY ${k.columns.map(quote).join(', ')}`, params);
  return rows.map((r) => ({ canonical: k.columns.map((_, i) => r[`k${i}`]).join('\u0001'), raw: k.columns.map((_, i) => r[`r${i}`]!) }));
}

/** One Iceberg value in canonical form: timestamps arrive as bigint microseconds (see scanColumns). */
export function canonicalValue(v: unknown): string {
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return String(v);
}

/** Consecutive runs of keys missing from `present`, as inclusive [first, last] raw key pairs. */
export function missingRuns(keys: SourceKey[], present: Set<string>): { first: string[]; last: string[]; count: number }[] {
  const runs: { first: string[]; last: string[]; count: number }[] = [];
  let open: { first: string[]; last: string[]; count: number } | undefined;
  for (const key of keys) {
    if (present.has(key.canonical)) {
      open = undefined;
      continue;
    }
    if (open) {
      open.last = key.raw;
      open.count++;
    } else {
      open = { first: key.raw, last: key.raw, count: 1 };
      runs.push(open);
    }
  }
  return runs;
}
