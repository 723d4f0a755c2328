// Gathers rows (in any order, from any of a column's chunks) into one new
// chunk, for every Arrow layout the Iceberg writer produces. apache-arrow has
// no take/filter kernel, and Vector.get() would round µs timestamps to ms and
// box decimals, so this copies the buffers directly.
//
// Layout notes (apache-arrow 21): a sliced chunk has its value and offset
// buffers already advanced to the slice, while validity and boolean bitmaps
// are not (they are read at data.offset + i); list offsets index the child's
// full, unsliced values; struct children are sliced with their parent.

import { makeData, Type, type Data, type DataType } from 'apache-arrow';
import { validity } from './value-reader';

/** Row `pos[i]` of chunk `src[i]`, for each output row i. */
export interface RowRefs {
  src: Uint32Array;
  pos: Uint32Array;
}

function gatherValidity(chunks: Data[], refs: RowRefs): { nullBitmap?: Uint8Array; nullCount: number } {
  if (chunks.every((c) => c.nullCount === 0)) return { nullCount: 0 };
  const valid = chunks.map(validity);
  const n = refs.src.length;
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid[refs.src[i]!]!(refs.pos[i]!)) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return nulls ? { nullBitmap: bitmap, nullCount: nulls } : { nullCount: 0 };
}

/** Gathers rows of several chunks of one column (all of `type`) into a single chunk. */
export function takeRows(type: DataType, chunks: Data[], refs: RowRefs): Data {
  const n = refs.src.length;
  const { nullBitmap, nullCount } = gatherValidity(chunks, refs);
  const base = { type: type as never, length: n, nullCount, ...(nullBitmap ? { nullBitmap } : {}) };
  switch (type.typeId) {
    case Type.Bool: {
      const bits = new Uint8Array(Math.ceil(n / 8));
      for (let i = 0; i < n; i++) {
        const c = chunks[refs.src[i]!]!;
        const j = c.offset + refs.pos[i]!;
        if (((c.values as Uint8Array)[j >> 3]! >> (j & 7)) & 1) bits[i >> 3]! |= 1 << (i & 7);
      }
      return makeData({ ...base, data: bits as never });
    }
    case Type.Utf8:
    case Type.Binary: {
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) {
        const o = chunks[refs.src[i]!]!.valueOffsets as Int32Array;
        offsets[i + 1] = offsets[i]! + o[refs.pos[i]! + 1]! - o[refs.pos[i]!]!;
      }
      const bytes = new Uint8Array(offsets[n]!);
      for (let i = 0; i < n; i++) {
        const c = chunks[refs.src[i]!]!;
        const o = c.valueOffsets as Int32Array;
        bytes.set((c.values as Uint8Array).subarray(o[refs.pos[i]!]!, o[refs.pos[i]! + 1]!), offsets[i]!);
      }
      return makeData({ ...base, valueOffsets: offsets, data: bytes as never });
    }
    case Type.List:
    case Type.Map: {
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) {
        const o = chunks[refs.src[i]!]!.valueOffsets as Int32Array;
        offsets[i + 1] = offsets[i]! + o[refs.pos[i]! + 1]! - o[refs.pos[i]!]!;
      }
      const child: RowRefs = { src: new Uint32Array(offsets[n]!), pos: new Uint32Array(offsets[n]!) };
      for (let i = 0, k = 0; i < n; i++) {
        const o = chunks[refs.src[i]!]!.valueOffsets as Int32Array;
        for (let p = o[refs.pos[i]!]!; p < o[refs.pos[i]! + 1]!; p++, k++) {
          child.src[k] = refs.src[i]!;
          child.pos[k] = p;
        }
      }
      const childType = type.children[0]!.type as DataType;
      return makeData({ ...base, valueOffsets: offsets, child: takeRows(childType, chunks.map((c) => c.children[0]!), child) } as never);
    }
    case Type.Struct: {
      const children = type.children.map((f, k) => takeRows(f.type as DataType, chunks.map((c) => c.children[k]!), refs));
      return makeData({ ...base, children } as never);
    }
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Timestamp:
    case Type.Decimal:
    case Type.FixedSizeBinary: {
      // Fixed width: `stride` elements of the value array per row.
      const first = chunks[0]!;
      const stride = first.stride;
      const Ctor = (first.values as unknown as { constructor: new (n: number) => Uint8Array }).constructor;
      const out = new Ctor(n * stride);
      for (let i = 0; i < n; i++) {
        const vals = chunks[refs.src[i]!]!.values as Uint8Array;
        const from = refs.pos[i]! * stride;
        for (let k = 0; k < stride; k++) out[i * stride + k] = vals[from + k]!;
      }
      return makeData({ ...base, data: out as never });
    }
    default:
      throw new Error(`takeRows: unsupported Arrow type ${String(type)}`);
  }
}

/** Refs for rows `indices` of a column split into chunks of the given lengths (global row numbers). */
export function refsFor(lengths: number[], indices: ArrayLike<number>): RowRefs {
  const starts: number[] = [];
  let acc = 0;
  for (const l of lengths) {
    starts.push(acc);
    acc += l;
  }
  const refs: RowRefs = { src: new Uint32Array(indices.length), pos: new Uint32Array(indices.length) };
  for (let i = 0; i < indices.length; i++) {
    const g = indices[i]!;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= g) lo = mid;
      else hi = mid - 1;
    }
    refs.src[i] = lo;
    refs.pos[i] = g - starts[lo]!;
  }
  return refs;
}
