// Partition transforms (spec "Partition Transforms", "Bucket/Truncate
// Transform Details"). Values use the internal representation from values.ts.

import { IcebergArgumentError } from '../errors';
import { hashLong, murmur3x86_32 } from './murmur3';
import { decimalParams, fixedLength, type IcebergType, type PrimitiveType } from './schema';
import { isoDate, isoMicros, minBigEndian, type IcebergValue } from './values';

export type Transform =
  | { kind: 'identity' }
  | { kind: 'void' }
  | { kind: 'year' }
  | { kind: 'month' }
  | { kind: 'day' }
  | { kind: 'hour' }
  | { kind: 'bucket'; n: number }
  | { kind: 'truncate'; width: number };

export function parseTransform(s: string): Transform {
  if (s === 'identity' || s === 'void' || s === 'year' || s === 'month' || s === 'day' || s === 'hour') return { kind: s };
  const m = /^(bucket|truncate)\[(\d+)\]$/.exec(s);
  if (m && Number(m[2]) > 0) return m[1] === 'bucket' ? { kind: 'bucket', n: Number(m[2]) } : { kind: 'truncate', width: Number(m[2]) };
  throw new IcebergArgumentError(`unknown partition transform ${JSON.stringify(s)}`);
}

const TIME_SOURCES = new Set(['date', 'timestamp', 'timestamptz']);
const utf8 = new TextEncoder();

/**
 * The partition value type a transform produces, or undefined if the source
 * type cannot take it. `day` yields `date` as Iceberg Java and PyIceberg do
 * (same int days on the wire, but readers print it as a date).
 */
export function transformResultType(t: Transform, source: IcebergType): PrimitiveType | undefined {
  if (typeof source !== 'string') return undefined; // only primitives can be partition sources
  switch (t.kind) {
    case 'identity':
      return source;
    case 'void':
      return source;
    case 'year':
    case 'month':
      return TIME_SOURCES.has(source) ? 'int' : undefined;
    case 'day':
      return TIME_SOURCES.has(source) ? 'date' : undefined;
    case 'hour':
      return source === 'timestamp' || source === 'timestamptz' ? 'int' : undefined;
    case 'bucket':
      return ['int', 'long', 'date', 'time', 'timestamp', 'timestamptz', 'string', 'uuid', 'binary'].includes(source) ||
        decimalParams(source) || fixedLength(source) !== undefined
        ? 'int'
        : undefined;
    case 'truncate':
      return ['int', 'long', 'string', 'binary'].includes(source) || decimalParams(source) ? source : undefined;
  }
}

const MICROS_PER_DAY = 86_400_000_000n;
const MICROS_PER_HOUR = 3_600_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

function daysOf(source: PrimitiveType, v: IcebergValue): number {
  return source === 'date' ? Number(v) : Number(floorDiv(v as bigint, MICROS_PER_DAY));
}

function monthsFromEpoch(days: number): number {
  const d = new Date(days * 86_400_000);
  return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
}

/** Appendix B hash of a value of `source` type. */
export function bucketHash(source: PrimitiveType, v: IcebergValue): number {
  if (source === 'int' || source === 'date' || source === 'long' || source === 'time' || source === 'timestamp' || source === 'timestamptz') {
    return hashLong(BigInt(v as number | bigint));
  }
  if (source === 'string') return murmur3x86_32(utf8.encode(v as string));
  if (decimalParams(source)) return murmur3x86_32(minBigEndian(v as bigint));
  return murmur3x86_32(v as Uint8Array); // uuid (big-endian bytes), fixed, binary
}

/** Applies a transform; null in, null out (spec: all transforms return null for null). */
export function applyTransform(t: Transform, source: PrimitiveType, v: IcebergValue | null): IcebergValue | null {
  if (v === null) return null;
  switch (t.kind) {
    case 'identity':
      return v;
    case 'void':
      return null;
    case 'day':
      return daysOf(source, v);
    case 'hour':
      return Number(floorDiv(v as bigint, MICROS_PER_HOUR));
    case 'month':
      return monthsFromEpoch(daysOf(source, v));
    case 'year':
      return new Date(daysOf(source, v) * 86_400_000).getUTCFullYear() - 1970;
    case 'bucket':
      return (bucketHash(source, v) & 0x7fffffff) % t.n;
    case 'truncate':
      return truncateValue(source, v, t.width);
  }
}

function truncateValue(source: PrimitiveType, v: IcebergValue, w: number): IcebergValue {
  if (source === 'int') return (v as number) - ((((v as number) % w) + w) % w);
  if (source === 'long' || decimalParams(source)) {
    const big = v as bigint;
    const W = BigInt(w);
    return big - (((big % W) + W) % W);
  }
  if (source === 'string') return Array.from(v as string).slice(0, w).join(''); // code points, not UTF-16 units
  return (v as Uint8Array).subarray(0, w);
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

/** Human-readable partition value as Iceberg Java prints it in partition paths (before URL encoding). */
export function humanPartitionValue(t: Transform, resultType: PrimitiveType, v: IcebergValue | null): string {
  if (v === null) return 'null';
  switch (t.kind) {
    case 'day':
      return isoDate(v as number);
    case 'hour': {
      const h = v as number;
      const days = Math.floor(h / 24);
      return `${isoDate(days)}-${pad(h - days * 24, 2)}`;
    }
    case 'month': {
      const m = v as number;
      const years = Math.floor(m / 12);
      return `${pad(1970 + years, 4)}-${pad(m - years * 12 + 1, 2)}`;
    }
    case 'year':
      return pad(1970 + (v as number), 4);
    default:
      return humanValue(resultType, v);
  }
}

function humanValue(type: PrimitiveType, v: IcebergValue): string {
  if (type === 'date') return isoDate(v as number);
  if (type === 'timestamp') return isoMicros(v as bigint);
  if (type === 'timestamptz') return `${isoMicros(v as bigint)}+00:00`;
  const dec = decimalParams(type);
  if (dec) return formatDecimal(v as bigint, dec.scale);
  if (type === 'uuid') {
    const h = Buffer.from(v as Uint8Array).toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return String(v);
}

export function formatDecimal(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** java.net.URLEncoder (UTF-8): what Iceberg Java applies to partition names and values in paths. */
export function javaUrlEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
