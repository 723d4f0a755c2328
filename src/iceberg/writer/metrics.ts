// File-level column metrics for a data file's manifest entry. Bounds and
// counts come from the Arrow data (exact, no round trip through Parquet
// statistics, which hyparquet decodes lossily for decimals and timestamps);
// sizes and row-group offsets come from the written Parquet footer.

import type { Table } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { truncateBinaryLower, truncateBinaryUpper, truncateStringLower, truncateStringUpper } from '../spec/bounds';
import { decimalParams, isPrimitive, type PrimitiveType, type Schema } from '../spec/schema';
import { compareBytes, toBinary } from '../spec/values';
import { validity, valueReader } from '../arrow/value-reader';

export interface ColumnMetrics {
  value_counts: Record<number, number>;
  null_value_counts: Record<number, number>;
  nan_value_counts: Record<number, number>;
  lower_bounds: Record<number, Uint8Array>;
  upper_bounds: Record<number, Uint8Array>;
}

const BYTE_TYPES = new Set<string>(['string', 'binary', 'uuid']);
const isBytesLike = (t: PrimitiveType) => BYTE_TYPES.has(t) || t.startsWith('fixed[');

const utf8 = new TextDecoder();

/** Signed comparison of two little-endian 128-bit values (4 Uint32 words each) at indexes a and b. */
function compareDecimal128(w: Uint32Array, a: number, b: number): number {
  const ha = w[a * 4 + 3]! | 0;
  const hb = w[b * 4 + 3]! | 0;
  if (ha !== hb) return ha < hb ? -1 : 1;
  for (let k = 2; k >= 0; k--) {
    const x = w[a * 4 + k]!;
    const y = w[b * 4 + k]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** `a < b`, with -0.0 below +0.0 as the spec requires for float bounds. */
function lessThan(a: number | bigint | boolean, b: number | bigint | boolean): boolean {
  return a < b || (a === 0 && b === 0 && Object.is(a, -0) && !Object.is(b, -0));
}

/** Metrics for every top-level primitive column (nested columns get counts from the footer). */
export function arrowMetrics(table: Table, schema: Schema): ColumnMetrics {
  const m: ColumnMetrics = { value_counts: {}, null_value_counts: {}, nan_value_counts: {}, lower_bounds: {}, upper_bounds: {} };
  schema.fields.forEach((field, col) => {
    if (!isPrimitive(field.type)) return;
    const type = field.type;
    let nulls = 0;
    let nans = 0;
    let min: unknown;
    let max: unknown;
    for (const batch of table.batches) {
      const data = batch.data.children[col]!;
      const n = data.length;
      nulls += data.nullCount;
      if (decimalParams(type)) {
        // Compare the 128-bit words in place; BigInt per value would dominate the write time.
        const valid = validity(data);
        const words = data.values as Uint32Array;
        let lo = -1;
        let hi = -1;
        for (let i = 0; i < n; i++) {
          if (!valid(i)) continue;
          if (lo < 0 || compareDecimal128(words, i, lo) < 0) lo = i;
          if (hi < 0 || compareDecimal128(words, i, hi) > 0) hi = i;
        }
        if (lo >= 0) {
          const read = valueReader(data, type);
          if (min === undefined || (read(lo) as bigint) < (min as bigint)) min = read(lo);
          if (max === undefined || (read(hi) as bigint) > (max as bigint)) max = read(hi);
        }
      } else if (isBytesLike(type)) {
        // Compare raw bytes (UTF-8 byte order is code point order) and decode only the winners.
        const valid = validity(data);
        const read = valueReader(data, type === 'string' ? 'binary' : type);
        for (let i = 0; i < n; i++) {
          if (!valid(i)) continue;
          const v = read(i) as Uint8Array;
          if (min === undefined || compareBytes(v, min as Uint8Array) < 0) min = v;
          if (max === undefined || compareBytes(v, max as Uint8Array) > 0) max = v;
        }
      } else {
        const read = valueReader(data, type) as (i: number) => number | bigint | boolean | null;
        const isFloat = type === 'float' || type === 'double';
        for (let i = 0; i < n; i++) {
          const v = read(i);
          if (v === null) continue;
          if (isFloat && Number.isNaN(v)) { nans++; continue; }
          if (min === undefined || lessThan(v, min as number)) min = v;
          if (max === undefined || lessThan(max as number, v)) max = v;
        }
      }
    }
    m.value_counts[field.id] = table.numRows;
    m.null_value_counts[field.id] = nulls;
    if (type === 'float' || type === 'double') m.nan_value_counts[field.id] = nans;
    if (min === undefined || max === undefined) return;
    if (type === 'string') {
      const lo = truncateStringLower(utf8.decode(min as Uint8Array));
      const hi = truncateStringUpper(utf8.decode(max as Uint8Array));
      m.lower_bounds[field.id] = toBinary('string', lo);
      if (hi !== undefined) m.upper_bounds[field.id] = toBinary('string', hi);
    } else if (type === 'binary') {
      m.lower_bounds[field.id] = truncateBinaryLower(min as Uint8Array);
      const hi = truncateBinaryUpper(max as Uint8Array);
      if (hi !== undefined) m.upper_bounds[field.id] = hi;
    } else {
      const copy = (v: unknown) => (v instanceof Uint8Array ? v.slice() : v);
      m.lower_bounds[field.id] = toBinary(type, copy(min) as never);
      m.upper_bounds[field.id] = toBinary(type, copy(max) as never);
    }
  });
  return m;
}

export interface FooterMetrics {
  column_sizes: Record<number, number>;
  /** Leaf value counts / null counts by field id, including leaves inside lists and maps. */
  value_counts: Record<number, number>;
  null_value_counts: Record<number, number>;
  split_offsets: number[];
  row_count: number;
}

/** Sizes per field id and row-group start offsets, read back from the Parquet footer. */
export function footerMetrics(parquet: Uint8Array): FooterMetrics {
  const meta = parquetMetadata(parquet);
  // Flatten the schema tree to map each leaf path to its field id.
  const idByPath = new Map<string, number>();
  let pos = 1; // element 0 is the root
  const walk = (prefix: string[]): void => {
    const el = meta.schema[pos++]!;
    const path = [...prefix, el.name];
    if (el.num_children) for (let c = 0; c < el.num_children; c++) walk(path);
    else if (el.field_id !== undefined) idByPath.set(path.join('\u0000'), el.field_id);
  };
  const rootChildren = meta.schema[0]?.num_children ?? 0;
  for (let c = 0; c < rootChildren; c++) walk([]);

  const out: FooterMetrics = { column_sizes: {}, value_counts: {}, null_value_counts: {}, split_offsets: [], row_count: Number(meta.num_rows) };
  for (const rg of meta.row_groups) {
    const first = rg.columns[0]?.meta_data;
    const start = first ? (first.dictionary_page_offset ?? first.data_page_offset) : rg.file_offset;
    if (start !== undefined) out.split_offsets.push(Number(start));
    for (const col of rg.columns) {
      const md = col.meta_data;
      if (!md) continue;
      const id = idByPath.get(md.path_in_schema.join('\u0000'));
      if (id === undefined) continue;
      out.column_sizes[id] = (out.column_sizes[id] ?? 0) + Number(md.total_compressed_size);
      out.value_counts[id] = (out.value_counts[id] ?? 0) + Number(md.num_values);
      if (md.statistics?.null_count !== undefined) out.null_value_counts[id] = (out.null_value_counts[id] ?? 0) + Number(md.statistics.null_count);
    }
  }
  out.split_offsets.sort((a, b) => a - b);
  return out;
}
