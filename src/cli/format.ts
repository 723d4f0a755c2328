// Plain-text output of the CLI. One style everywhere: numbers grouped and right-aligned, durations in the largest
// sensible unit, timestamps in UTC with the zone, long notes shortened (the complete text is in --json).

export type Cell = string | number | null | undefined;

/** Notes longer than this are shortened in tables so a row stays on one terminal line. */
export const NOTE_WIDTH = 80;

const group = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** 367764242 → "367,764,242". */
export const num = (n: number): string => group.format(n);

/** Shortens text to `width` characters with an ellipsis, keeping it on one line. */
export function shorten(text: string, width = NOTE_WIDTH): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

/**
 * Renders rows as an aligned plain-text table. Number cells are grouped and the columns holding only numbers are
 * right-aligned, so magnitudes line up; the last column is not padded.
 */
export function table(headers: string[], rows: Cell[][]): string {
  const numeric = headers.map((_, i) => rows.some((r) => typeof r[i] === 'number') && rows.every((r) => r[i] === null || r[i] === undefined || typeof r[i] === 'number'));
  const text = (c: Cell) => (c === null || c === undefined ? '-' : typeof c === 'number' ? num(c) : c);
  const cells = [headers, ...rows.map((r) => headers.map((_, i) => text(r[i])))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** Milliseconds in the largest sensible unit: 850 ms, 12.3 s, 4 min 05 s, 3 h 20 min, 2 d 4 h. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** A lag in seconds: "0 s" when caught up, else a duration. */
export const lag = (seconds: number | null): string | null => (seconds === null ? null : seconds === 0 ? '0 s' : duration(seconds * 1000));

/** The one timestamp style of the CLI: "2026-12-06 02:40:16 UTC" (ISO strings and Dates accepted). */
export function timestamp(t: Date | string | null | undefined): string | null {
  if (t === null || t === undefined) return null;
  const d = typeof t === 'string' ? new Date(t) : t;
  if (Number.isNaN(d.getTime())) return typeof t === 'string' ? t : null;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A watermark tuple, its first column (the ingestion time) in the CLI's timestamp style. */
export function watermark(values: string[] | null | undefined): string {
  if (!values) return '-';
  const [first, ...rest] = values;
  // ClickHouse renders DateTime64 as "2026-12-06 02:40:16.123456" in UTC (the columns are declared 'UTC').
  const ts = first && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(first) ? `${first} UTC` : first;
  return [ts, ...rest].join(' #');
}

/** Bytes in binary units: 1.5 GiB, 820 KiB. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
