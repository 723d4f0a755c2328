// Sorts a conformed table by an Iceberg sort order (compaction writes files in
// the table's order, so readers' min/max pruning gets tight bounds again).
// Sort keys are extracted once per row; comparing boxed values per comparison
// would decode strings and allocate BigInts millions of times.

import { makeData, RecordBatch, Struct, Table, type Data } from 'apache-arrow';
import type { SortOrder } from '../spec/partition-spec';
import type { PrimitiveType, Schema } from '../spec/schema';
import { applyTransform, parseTransform } from '../spec/transforms';
import { compareValues, type IcebergValue } from '../spec/values';
import { refsFor, takeRows } from './take';
import { valueReader } from './value-reader';

/**
 * Whether `order` can be applied here: every field a top-level primitive
 * column of `schema` with a known transform.
 */
export function sortableBy(order: SortOrder | undefined, schema: Schema): order is SortOrder {
  if (!order || order.fields.length === 0) return false;
  return order.fields.every((f) => {
    const col = schema.fields.find((c) => c.id === f['source-id']);
    if (!col || typeof col.type !== 'string') return false;
    try {
      parseTransform(f.transform);
      return true;
    } catch {
      return false;
    }
  });
}

/** `table` (columns in `schema` order) sorted by `order`, as one record batch. Stable: equal keys keep their input order. */
export function sortTable(table: Table, schema: Schema, order: SortOrder): Table {
  const n = table.numRows;
  const keys = order.fields.map((f) => {
    const col = schema.fields.findIndex((c) => c.id === f['source-id']);
    const type = schema.fields[col]!.type as PrimitiveType;
    const transform = parseTransform(f.transform);
    const values: Array<IcebergValue | null> = new Array(n);
    let k = 0;
    for (const batch of table.batches) {
      const read = valueReader(batch.data.children[col]!, type);
      for (let i = 0; i < batch.numRows; i++) {
        const v = read(i);
        values[k++] = applyTransform(transform, type, v instanceof Uint8Array ? v.slice() : v);
      }
    }
    return { values, desc: f.direction === 'desc', nullsFirst: f['null-order'] === 'nulls-first' };
  });
  const index = Array.from({ length: n }, (_, i) => i);
  index.sort((a, b) => {
    for (const { values, desc, nullsFirst } of keys) {
      const x = values[a] ?? null;
      const y = values[b] ?? null;
      if (x === null || y === null) {
        if (x === y) continue;
        return (x === null) === nullsFirst ? -1 : 1;
      }
      const c = compareValues(x, y);
      if (c !== 0) return desc ? -c : c;
    }
    return a - b;
  });
  const refs = refsFor(table.batches.map((b) => b.numRows), index);
  const children = table.schema.fields.map((f, j) => takeRows(f.type, table.batches.map((b) => b.data.children[j]!) as Data[], refs));
  return new Table(table.schema, [new RecordBatch(table.schema, makeData({ type: new Struct(table.schema.fields), length: n, nullCount: 0, children }))]);
}
