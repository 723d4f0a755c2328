// Footer fixes for Parquet files coldtier writes (parquet-wasm's, and ClickHouse's once adopted): the UUID logical
// type the spec's Parquet mapping requires on uuid columns (arrow-rs writes FIXED_LEN_BYTE_ARRAY(16) bare, since Arrow
// has no UUID type to carry it), and, unless the table opts back in, no min/max statistics (row-group statistics and
// page indexes) on uuid columns, which Iceberg Java compares as signed longs (apache/iceberg#14216), nor on float
// columns holding NaN, which pyarrow misreads (docs/interop.md). Only the footer changes.

import type { IcebergType, NestedField, Schema } from '../spec/schema';
import { CHUNK, COLMETA, decodeFooter, EL, FILE, LOGICAL, replaceFooter, RG } from './footer';
import { getField, setField, T, type TList, type TStruct } from './thrift-compact';

/** parquet.thrift Statistics fields holding values (max, min, max_value, min_value, is_max/min_value_exact). */
const STAT_VALUE_FIELDS = new Set([1, 2, 5, 6, 7, 8]);
/** ColumnChunk.column_index_offset / column_index_length: the page index's per-page min/max. */
const COLUMN_INDEX_FIELDS = new Set([6, 7]);

/** Field ids of every value of one of `types` in `fields`, nested ones included (list elements, map keys and values). */
export function fieldIdsOfType(fields: NestedField[], types: readonly string[]): Set<number> {
  const ids = new Set<number>();
  const visit = (id: number, t: IcebergType): void => {
    if (typeof t === 'string') {
      if (types.includes(t)) ids.add(id);
    } else if (t.type === 'struct') t.fields.forEach((f) => visit(f.id, f.type));
    else if (t.type === 'list') visit(t['element-id'], t.element);
    else {
      visit(t['key-id'], t.key);
      visit(t['value-id'], t.value);
    }
  };
  fields.forEach((f) => visit(f.id, f.type));
  return ids;
}

export interface AnnotateOptions {
  /** Keep min/max statistics (row groups and page index) on uuid columns. @default false */
  uuidStatistics?: boolean;
  /**
   * Field ids whose min/max statistics to remove as well: float columns holding NaN, whose min/max (which leave NaN
   * out, as the Parquet spec says) pyarrow takes as covering every value, and skips the NaN rows (docs/interop.md).
   * @default none
   */
  noMinMax?: Iterable<number>;
}

/**
 * `file` with the UUID logical type on every column whose field id is a uuid field of `schema`, and the min/max
 * statistics removed from those columns (unless `uuidStatistics`) and from `noMinMax`. Returns `file` itself when
 * there is nothing to change.
 */
export function annotateParquet(file: Uint8Array, schema: Schema, o: AnnotateOptions = {}): Uint8Array {
  const uuids = fieldIdsOfType(schema.fields, ['uuid']);
  const strip = new Set<number>([...(o.noMinMax ?? []), ...(o.uuidStatistics ? [] : uuids)]);
  if (!uuids.size && !strip.size) return file;
  const footer = decodeFooter(file, 'parquet file');
  const elements = ((getField(footer.meta, FILE.schema) as TList | undefined)?.items ?? []) as TStruct[];
  // Leaf paths of uuid columns, to find their column chunks (which name their column by path, not by id).
  const stripPaths = new Set<string>();
  let pos = 1; // element 0 is the root
  const walk = (prefix: string[]): void => {
    const el = elements[pos++]!;
    const path = [...prefix, new TextDecoder().decode(getField(el, EL.name) as Uint8Array)];
    const children = Number(getField(el, EL.numChildren) ?? 0n);
    for (let c = 0; c < children; c++) walk(path);
    const id = getField(el, EL.fieldId);
    if (children || typeof id !== 'bigint') return;
    if (uuids.has(Number(id))) setField(el, EL.logicalType, T.STRUCT, [{ id: LOGICAL.UUID, type: T.STRUCT, value: [] }]);
    if (strip.has(Number(id))) stripPaths.add(path.join('\u0000'));
  };
  const roots = Number(getField(elements[0] ?? [], EL.numChildren) ?? 0n);
  for (let c = 0; c < roots; c++) walk([]);
  if (stripPaths.size) {
    for (const rg of ((getField(footer.meta, FILE.rowGroups) as TList | undefined)?.items ?? []) as TStruct[]) {
      for (const chunk of ((getField(rg, RG.columns) as TList).items ?? []) as TStruct[]) {
        const md = getField(chunk, CHUNK.metaData) as TStruct | undefined;
        const path = ((getField(md ?? [], COLMETA.path) as TList | undefined)?.items ?? []).map((b) => new TextDecoder().decode(b as Uint8Array));
        if (!md || !stripPaths.has(path.join('\u0000'))) continue;
        const stats = getField(md, COLMETA.statistics) as TStruct | undefined;
        if (stats) setField(md, COLMETA.statistics, T.STRUCT, stats.filter((f) => !STAT_VALUE_FIELDS.has(f.id)));
        const kept = chunk.filter((f) => !COLUMN_INDEX_FIELDS.has(f.id));
        chunk.splice(0, chunk.length, ...kept);
      }
    }
  }
  return replaceFooter(file, footer);
}
