// File-level column metrics for a data file's manifest entry. Bounds and
// counts come from the Arrow data (exact, no round trip through Parquet
// statistics, which hyparquet decodes lossily for decimals and timestamps);
// sizes and row-group offsets come from the written Parquet footer.

import type { Data, Table } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { truncateBinaryLower, truncateBinaryUpper, truncateStringLower, truncateStringUpper } from '../spec/bounds';
import { decimalParams, fixedLength, isPrimitive, type PrimitiveType, type Schema } from '../spec/schema';
import { compareValues, toBinary, type IcebergValue } from '../spec/values';
import { validity, valueReader } from '../arrow/value-reader';

export interface ColumnMetrics {
  value_counts: Record<number, number>;
  null_value_counts: Record<number, number>;
  nan_value_counts: Record<number, number>;
  lower_bounds: Record<number, Uint8Array>;
  upper_bounds: Record<number, Uint8Array>;
}

type Cmp = (a: number, b: number) => number;

/**
 * Comparator over row indexes of one chunk, reading the buffers in place:
 * allocating a BigInt or a subarray per value would dominate the write time.
 * `isNaN` marks float rows that bounds must skip.
 */
function rowComparator(data: Data, type: PrimitiveType): { cmp: Cmp; isNaN?: (i: number) => boolean } {
  const values = data.values as unknown;
  if (decimalParams(type) || type === 'long' || type === 'timestamp' || type === 'timestamptz' || type === 'time') {
    // Little-endian two's complement words: compare the top word signed, the rest unsigned.
    const words = decimalParams(type) ? 4 : 2;
    const w = new Uint32Array((values as Uint32Array).buffer, (values as Uint32Array).byteOffset, (values as Uint32Array).byteLength / 4);
    return {
      cmp: (a, b) => {
        const ha = w[a * words + words - 1]! | 0;
        const hb = w[b * words + words - 1]! | 0;
        if (ha !== hb) return ha < hb ? -1 : 1;
        for (let k = words - 2; k >= 0; k--) {
          const x = w[a * words + k]!;
          const y = w[b * words + k]!;
          if (x !== y) return x < y ? -1 : 1;
        }
        return 0;
      },
    };
  }
  if (type === 'int' || type === 'date') {
    const arr = values as Int32Array;
    return { cmp: (a, b) => arr[a]! - arr[b]! };
  }
  if (type === 'float' || type === 'double') {
    const arr = values as Float32Array | Float64Array;
    // -0.0 sorts below +0.0, as the spec requires for float bounds.
    return {
      cmp: (a, b) => {
        const x = arr[a]!;
        const y = arr[b]!;
        if (x !== y) return x < y ? -1 : 1;
        if (x !== 0) return 0;
        const nx = Object.is(x, -0);
        return nx === Object.is(y, -0) ? 0 : nx ? -1 : 1;
      },
      isNaN: (i) => Number.isNaN(arr[i]!),
    };
  }
  if (type === 'boolean') {
    const read = valueReader(data, type);
    return { cmp: (a, b) => Number(read(a)) - Number(read(b)) };
  }
  // Bytes (string, binary, fixed, uuid): unsigned lexicographic; UTF-8 byte order is code point order.
  const bytes = values as Uint8Array;
  const offsets = data.valueOffsets as Int32Array | undefined;
  const width = offsets ? 0 : type === 'uuid' ? 16 : fixedLength(type) ?? 0;
  const start = (i: number) => (offsets ? offsets[i]! : i * width);
  const end = (i: number) => (offsets ? offsets[i + 1]! : (i + 1) * width);
  return {
    cmp: (a, b) => {
      const sa = start(a);
      const sb = start(b);
      const la = end(a) - sa;
      const lb = end(b) - sb;
      const n = Math.min(la, lb);
      for (let k = 0; k < n; k++) {
        const d = bytes[sa + k]! - bytes[sb + k]!;
        if (d !== 0) return d;
      }
      return la - lb;
    },
  };
}

/** Min and max (internal representation) and NaN count of one chunk. */
function chunkExtremes(data: Data, type: PrimitiveType): { min?: IcebergValue; max?: IcebergValue; nans: number } {
  const valid = validity(data);
  const { cmp, isNaN } = rowComparator(data, type);
  let lo = -1;
  let hi = -1;
  let nans = 0;
  for (let i = 0; i < data.length; i++) {
    if (!valid(i)) continue;
    if (isNaN?.(i)) { nans++; continue; }
    if (lo < 0 || cmp(i, lo) < 0) lo = i;
    if (hi < 0 || cmp(i, hi) > 0) hi = i;
  }
  if (lo < 0) return { nans };
  const read = valueReader(data, type);
  const copy = (v: IcebergValue | null) => (v instanceof Uint8Array ? v.slice() : v) as IcebergValue;
  return { min: copy(read(lo)), max: copy(read(hi)), nans };
}

/** `a < b` for merged chunk results, with -0.0 below +0.0. */
function lessThan(a: IcebergValue, b: IcebergValue): boolean {
  if (typeof a === 'number' && typeof b === 'number' && a === 0 && b === 0) return Object.is(a, -0) && !Object.is(b, -0);
  return compareValues(a, b) < 0;
}

/** Metrics for every top-level primitive column (nested columns get counts from the footer); uuid bounds only with `uuidBounds`. */
export function arrowMetrics(table: Table, schema: Schema, o: { uuidBounds?: boolean } = {}): ColumnMetrics {
  const m: ColumnMetrics = { value_counts: {}, null_value_counts: {}, nan_value_counts: {}, lower_bounds: {}, upper_bounds: {} };
  schema.fields.forEach((field, col) => {
    if (!isPrimitive(field.type)) return;
    const type = field.type;
    let nulls = 0;
    let nans = 0;
    let min: IcebergValue | undefined;
    let max: IcebergValue | undefined;
    for (const batch of table.batches) {
      const data = batch.data.children[col]!;
      nulls += data.nullCount;
      const r = chunkExtremes(data, type);
      nans += r.nans;
      if (r.min !== undefined && (min === undefined || lessThan(r.min, min))) min = r.min;
      if (r.max !== undefined && (max === undefined || lessThan(max, r.max))) max = r.max;
    }
    m.value_counts[field.id] = table.numRows;
    m.null_value_counts[field.id] = nulls;
    if (type === 'float' || type === 'double') m.nan_value_counts[field.id] = nans;
    // uuid bounds only where the table opts in (coldtier.write.uuid-bounds; see docs/interop.md).
    if (min !== undefined && max !== undefined && (type !== 'uuid' || o.uuidBounds)) setBounds(m, field.id, type, min, max);
  });
  return m;
}

/**
 * Records `min`/`max` (internal representation) as field `id`'s bounds: strings and binary truncated to 16 the way
 * Iceberg Java does (an upper bound that cannot be incremented is left out), everything else exact.
 */
export function setBounds(m: Pick<ColumnMetrics, 'lower_bounds' | 'upper_bounds'>, id: number, type: PrimitiveType, min: IcebergValue, max: IcebergValue): void {
  if (type === 'string') {
    const hi = truncateStringUpper(max as string);
    m.lower_bounds[id] = toBinary('string', truncateStringLower(min as string));
    if (hi !== undefined) m.upper_bounds[id] = toBinary('string', hi);
  } else if (type === 'binary') {
    const hi = truncateBinaryUpper(max as Uint8Array);
    m.lower_bounds[id] = truncateBinaryLower(min as Uint8Array);
    if (hi !== undefined) m.upper_bounds[id] = hi;
  } else if ((type === 'float' || type === 'double') && (min === 0 || max === 0)) {
    // A zero bound covers both zeros (-0.0 below, +0.0 above): Iceberg Java orders -0.0 < 0.0 (Float.compare), so
    // a file of only -0.0 bounded by [-0.0, -0.0] is skipped for `x = 0.0`, though -0.0 = 0.0 for every engine.
    m.lower_bounds[id] = toBinary(type, min === 0 ? -0 : min);
    m.upper_bounds[id] = toBinary(type, max === 0 ? 0 : max);
  } else {
    m.lower_bounds[id] = toBinary(type, min);
    m.upper_bounds[id] = toBinary(type, max);
  }
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
