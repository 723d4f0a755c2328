// Reads values of one Arrow chunk in Iceberg's internal representation
// (spec/values.ts) straight from the buffers: Vector.get() would turn µs
// timestamps into lossy float milliseconds and decimals into opaque objects.

import type { Data } from 'apache-arrow';
import { decimalParams, fixedLength, type PrimitiveType } from '../spec/schema';
import type { IcebergValue } from '../spec/values';

export type ValueReader = (i: number) => IcebergValue | null;

const utf8 = new TextDecoder();

/** Validity of row i, honouring the chunk offset (bitmaps are never sliced, value buffers are). */
export function validity(data: Data): (i: number) => boolean {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return () => true;
  const off = data.offset;
  return (i) => ((bitmap[(off + i) >> 3]! >> ((off + i) & 7)) & 1) === 1;
}

function decimalAt(words: Uint32Array, i: number): bigint {
  const b = i * 4;
  const v = BigInt(words[b]!) | (BigInt(words[b + 1]!) << 32n) | (BigInt(words[b + 2]!) << 64n) | (BigInt(words[b + 3]!) << 96n);
  return BigInt.asIntN(128, v);
}

/** A reader for a conformed chunk (see conformToSchema) of Iceberg type `type`. */
export function valueReader(data: Data, type: PrimitiveType): ValueReader {
  const valid = validity(data);
  const values = data.values as unknown;
  let read: (i: number) => IcebergValue;
  switch (type) {
    case 'boolean': {
      const bits = values as Uint8Array;
      const off = data.offset;
      read = (i) => ((bits[(off + i) >> 3]! >> ((off + i) & 7)) & 1) === 1;
      break;
    }
    case 'int':
    case 'date':
    case 'float':
    case 'double': {
      const arr = values as Int32Array | Float32Array | Float64Array;
      read = (i) => arr[i]!;
      break;
    }
    case 'long':
    case 'timestamp':
    case 'timestamptz':
    case 'time': {
      const arr = values as BigInt64Array;
      read = (i) => arr[i]!;
      break;
    }
    case 'string':
    case 'binary': {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = values as Uint8Array;
      read = type === 'string'
        ? (i) => utf8.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!))
        : (i) => bytes.subarray(offsets[i]!, offsets[i + 1]!);
      break;
    }
    default: {
      if (decimalParams(type)) {
        const words = values as Uint32Array;
        read = (i) => decimalAt(words, i);
        break;
      }
      const width = type === 'uuid' ? 16 : fixedLength(type) ?? 0;
      const bytes = values as Uint8Array;
      read = (i) => bytes.subarray(i * width, (i + 1) * width);
    }
  }
  return (i) => (valid(i) ? read(i) : null);
}

/**
 * µs timestamps as float numbers, read from the two 32-bit halves (no BigInt
 * allocation per row). Exact while |µs| < 2^53, i.e. within ±285 years of 1970.
 */
export function microsAsNumberReader(data: Data): (i: number) => number | null {
  const valid = validity(data);
  const v = data.values as BigInt64Array;
  const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
  return (i) => (valid(i) ? w[i * 2 + 1]! * 4294967296 + (w[i * 2]! >>> 0) : null);
}
