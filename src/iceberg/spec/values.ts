// Iceberg "internal" value representation used for partition values and
// column bounds, plus the Appendix D single-value binary encoding.
//
//   boolean → boolean; int, date → number; long, time, timestamp(tz) → bigint (µs);
//   float, double → number; string → string; decimal → bigint (unscaled);
//   uuid, fixed, binary → Uint8Array
//
// Longs are bigint because µs timestamps and snapshot ids exceed 2^53.

import { IcebergArgumentError } from '../errors';
import { decimalParams, fixedLength, type PrimitiveType } from './schema';

export type IcebergValue = boolean | number | bigint | string | Uint8Array;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Two's-complement big-endian bytes of `v` using the fewest bytes that keep the sign (spec Appendix B note 2 / Appendix D). */
export function minBigEndian(v: bigint): Uint8Array {
  let n = 1;
  while (v < -(1n << BigInt(8 * n - 1)) || v >= 1n << BigInt(8 * n - 1)) n++;
  const out = new Uint8Array(n);
  let x = BigInt.asUintN(8 * n, v);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Inverse of minBigEndian (any length). */
export function fromBigEndian(bytes: Uint8Array): bigint {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return bytes.length === 0 ? 0n : BigInt.asIntN(8 * bytes.length, x);
}

function fixedBytes(size: number, fill: (v: DataView) => void): Uint8Array {
  const buf = new Uint8Array(size);
  fill(new DataView(buf.buffer));
  return buf;
}

/** Appendix D binary single-value serialization. */
export function toBinary(type: PrimitiveType, value: IcebergValue): Uint8Array {
  switch (type) {
    case 'boolean':
      return new Uint8Array([value ? 1 : 0]);
    case 'int':
    case 'date':
      return fixedBytes(4, (d) => d.setInt32(0, Number(value), true));
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return fixedBytes(8, (d) => d.setBigInt64(0, BigInt(value as bigint | number), true));
    case 'float':
      return fixedBytes(4, (d) => d.setFloat32(0, Number(value), true));
    case 'double':
      return fixedBytes(8, (d) => d.setFloat64(0, Number(value), true));
    case 'string':
      return utf8.encode(String(value));
    case 'uuid':
    case 'binary':
      return value as Uint8Array;
  }
  if (decimalParams(type)) return minBigEndian(value as bigint);
  if (fixedLength(type) !== undefined) return value as Uint8Array;
  throw new IcebergArgumentError(`no binary encoding for type ${String(type)}`);
}

/** Inverse of toBinary. */
export function fromBinary(type: PrimitiveType, bytes: Uint8Array): IcebergValue {
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'boolean':
      return bytes[0] !== 0;
    case 'int':
    case 'date':
      return d.getInt32(0, true);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return d.getBigInt64(0, true);
    case 'float':
      return d.getFloat32(0, true);
    case 'double':
      return d.getFloat64(0, true);
    case 'string':
      return utf8Decoder.decode(bytes);
    default:
      if (decimalParams(type)) return fromBigEndian(bytes);
      return bytes;
  }
}

/** Orders two values of the same Iceberg type (strings by UTF-8 bytes = code points, binary unsigned lexicographic). */
export function compareValues(a: IcebergValue, b: IcebergValue): number {
  if (typeof a === 'string' && typeof b === 'string') return compareUtf8(a, b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders strings as their UTF-8 bytes would (Iceberg's order) without encoding them: UTF-16 code units already
 * order like code points except that surrogates (code points ≥ U+10000) must sort after U+E000–U+FFFF.
 * Encoding on every comparison made compaction's sort 12× slower (docs/performance.md).
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** ISO date (YYYY-MM-DD) for days since epoch. */
export function isoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** ISO timestamp with µs for µs since epoch (no zone suffix). */
export function isoMicros(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const frac = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${frac.toString().padStart(6, '0')}`;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
