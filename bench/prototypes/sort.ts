// Prototype: the compaction sort without per-comparison UTF-8 encoding.
// Usage: tsx bench/prototypes/sort.ts [--rows N] [--runs K]
// sortTable (src/iceberg/arrow/sort.ts) compares string keys with compareValues, which UTF-8-encodes both strings
// on every comparison (TextEncoder.encode × 2 × n log n). The variant below compares UTF-16 code units with the
// standard surrogate fix-up, which orders exactly like UTF-8 bytes (code point order) and allocates nothing.
import { makeData, RecordBatch, Struct, Table, type Data } from 'apache-arrow';
import { sortTable } from '../../src/iceberg/arrow/sort';
import { refsFor, takeRows } from '../../src/iceberg/arrow/take';
import { valueReader } from '../../src/iceberg/arrow/value-reader';
import type { SortOrder } from '../../src/iceberg/spec/partition-spec';
import type { PrimitiveType, Schema } from '../../src/iceberg/spec/schema';
import { applyTransform, parseTransform } from '../../src/iceberg/spec/transforms';
import { compareValues, type IcebergValue } from '../../src/iceberg/spec/values';
import { conformToSchema } from '../../src/iceberg/arrow/arrow-schema';
import { median, timed } from '../lib/stats';
import { openProto } from './setup';

/** UTF-8 byte order of two JS strings without encoding them: UTF-16 order, except surrogates sort above U+E000–U+FFFF. */
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

const fastCompare = (x: IcebergValue, y: IcebergValue): number => (typeof x === 'string' && typeof y === 'string' ? compareUtf8(x, y) : compareValues(x, y));

/** sortTable with fastCompare: identical otherwise. */
function sortTableFast(table: Table, schema: Schema, order: SortOrder): Table {
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
      const c = fastCompare(x, y);
      if (c !== 0) return desc ? -c : c;
    }
    return a - b;
  });
  const refs = refsFor(table.batches.map((b) => b.numRows), index);
  const children = table.schema.fields.map((f, j) => takeRows(f.type, table.batches.map((b) => b.data.children[j]!) as Data[], refs));
  return new Table(table.schema, [new RecordBatch(table.schema, makeData({ type: new Struct(table.schema.fields), length: n, nullCount: 0, children }))]);
}

// Check the comparator against UTF-8 bytes on awkward strings first.
const enc = new TextEncoder();
const probe = ['', 'a', 'ab', 'B', 'é', '\uffff', '\ud83d\ude00', '\ue000', 'z\ud800\udc00', 'z\uffff', 'ETH-USD', 'BTC-USD'];
for (const x of probe) for (const y of probe) if (Math.sign(compareUtf8(x, y)) !== Math.sign(compareValues(enc.encode(x), enc.encode(y)))) throw new Error(`order differs for ${JSON.stringify([x, y])}`);

const p = await openProto([...process.argv.slice(2).filter((a) => !a.startsWith('--rows')), '--rows', process.argv.includes('--rows') ? process.argv[process.argv.indexOf('--rows') + 1]! : '500000']);
// Compaction input: rows in ingestion order (as small offload batches leave them), conformed like readDataFile's output.
const meta = p.table('sort');
const order = meta['sort-orders'].find((o) => o['order-id'] === meta['default-sort-order-id'])!;
const rows = conformToSchema(await p.ch.arrow(`SELECT ${p.select.join(', ')} FROM trades ORDER BY ingested_at, sequence`), p.schema);
await p.close();
const today: number[] = [];
const fast: number[] = [];
let a: Table | undefined;
let b: Table | undefined;
for (let r = 0; r < p.runs; r++) {
  const x = await timed(async () => sortTable(rows, p.schema, order));
  const y = await timed(async () => sortTableFast(rows, p.schema, order));
  today.push(x.s);
  fast.push(y.s);
  a = x.value;
  b = y.value;
  console.error(`run ${r + 1}: sortTable ${x.s.toFixed(2)} s, fast string compare ${y.s.toFixed(2)} s`);
}
// Same permutation: compare the sequence column row by row.
const seqA = a!.getChild('sequence')!.toArray() as BigInt64Array;
const seqB = b!.getChild('sequence')!.toArray() as BigInt64Array;
const same = seqA.length === seqB.length && seqA.every((v, i) => v === seqB[i]);
console.log(`| sort of ${p.rows} rows by (symbol, exchange_timestamp) | median s |\n|---|---|\n| sortTable today (TextEncoder per comparison) | ${median(today).toFixed(2)} |\n| code-unit compare with surrogate fix-up | ${median(fast).toFixed(2)} |\n\nspeed-up ${(median(today) / median(fast)).toFixed(1)}×; identical order: ${same}`);
