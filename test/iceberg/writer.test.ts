// writeDataFiles on hand-built Arrow input: partition grouping for any row
// order, Parquet field ids and repetition, metrics, and refusal of rows that
// do not match the schema.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Field, Int32, List, makeData, makeVector, RecordBatch, Schema as ArrowSchema, Struct, Table, TimestampMicrosecond, Utf8, vectorFromArray, Float64 } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { createFileIO, DataSchemaMismatchError, listDataFiles, newTableMetadata, prepareAppend, writeDataFiles, type Schema } from '../../src/iceberg';
import { fromBinary } from '../../src/iceberg/spec/values';
import { tempDir } from './helpers';

const io = createFileIO({});
const schema: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'ts', required: true, type: 'timestamptz' },
    { id: 2, name: 'sym', required: false, type: 'string' },
    { id: 3, name: 'tags', required: false, type: { type: 'list', 'element-id': 4, element: 'int', 'element-required': true } },
  ],
};
const DAY = 86_400_000_000n;
const base = BigInt(Date.parse('2026-11-20T00:00:00Z')) * 1000n;

function rowsOf(micros: bigint[], syms: Array<string | null>, tags: number[][]): Table {
  const ts = makeData({ type: new TimestampMicrosecond('UTC'), length: micros.length, nullCount: 0, data: BigInt64Array.from(micros) });
  const arrowSchema = new ArrowSchema([
    new Field('ts', new TimestampMicrosecond('UTC'), false),
    new Field('sym', new Utf8(), true),
    new Field('tags', new List(new Field('item', new Int32(), true)), true),
  ]);
  const children = [ts, vectorFromArray(syms, new Utf8()).data[0]!, vectorFromArray(tags, new List(new Field('item', new Int32(), true))).data[0]!];
  return new Table([new RecordBatch(arrowSchema, makeData({ type: new Struct(arrowSchema.fields), length: micros.length, nullCount: 0, children }))]);
}

describe('writeDataFiles', () => {
  it('groups interleaved rows into one file per day, each holding only its day', async () => {
    const n = 3000;
    // Days 0,1,2,0,1,2,... and one row before 1970 (negative µs): worst-case order.
    const micros = Array.from({ length: n }, (_, i) => base + BigInt(i % 3) * DAY + BigInt(i) * 1000n);
    micros[n - 1] = -1n;
    const table = newTableMetadata({ location: `file://${tempDir('writer')}/t`, schema, partitionBy: [{ sourceColumn: 'ts', transform: 'day' }] });
    const files = await writeDataFiles(io, table, rowsOf(micros, micros.map((_, i) => (i % 7 === 0 ? null : `s${i}`)), micros.map((_, i) => [i])));
    const days = files.map((f) => f.partition.ts_day).sort();
    assert.deepEqual(days, [-1, 20777, 20778, 20779]);
    assert.equal(files.reduce((a, f) => a + f.record_count, 0), n);
    for (const f of files) {
      const day = BigInt(f.partition.ts_day as number);
      const lo = fromBinary('timestamptz', f.lower_bounds![1]!) as bigint;
      const hi = fromBinary('timestamptz', f.upper_bounds![1]!) as bigint;
      assert.ok(lo >= day * DAY && hi < (day + 1n) * DAY, `file for day ${day} holds only that day`);
      assert.match(f.file_path, day < 0n ? /ts_day=1969-12-31\// : /ts_day=2026-11-2\d\//);
    }
    const pre1970 = files.find((f) => f.partition.ts_day === -1)!;
    assert.equal(pre1970.record_count, 1);

    // What was written is what a reader of the committed snapshot lists.
    const p = await prepareAppend(io, { metadata: table, metadataUri: null }, files, {});
    assert.deepEqual((await listDataFiles(io, p.metadata)).map((f) => f.file_path).sort(), files.map((f) => f.file_path).sort());
  });

  it('writes Parquet with field ids on every column and REQUIRED/OPTIONAL per schema', async () => {
    const table = newTableMetadata({ location: `file://${tempDir('writer')}/t`, schema });
    const [file] = await writeDataFiles(io, table, rowsOf([base, base + 1n], ['a', null], [[1, 2], []]));
    const footer = parquetMetadata(await io.read(file!.file_path));
    const byName = Object.fromEntries(footer.schema.map((e) => [e.name, e]));
    assert.equal(byName.ts?.field_id, 1);
    assert.equal(byName.ts?.repetition_type, 'REQUIRED');
    assert.equal(byName.sym?.field_id, 2);
    assert.equal(byName.sym?.repetition_type, 'OPTIONAL');
    assert.equal(byName.tags?.field_id, 3);
    assert.equal(byName.element?.field_id, 4);
    assert.equal(byName.element?.repetition_type, 'REQUIRED');
    assert.equal(footer.row_groups[0]?.columns[0]?.meta_data?.codec, 'ZSTD');
    assert.deepEqual(Object.keys(file!.column_sizes!).map(Number).sort(), [1, 2, 4]);
    assert.equal(file!.split_offsets![0], 4);
    assert.equal(file!.null_value_counts![2], 1);
    assert.equal(file!.value_counts![4], 3, 'list element values counted from the footer (incl. the empty list level)');
  });

  it('refuses rows that do not match the schema instead of writing something else', async () => {
    const table = newTableMetadata({ location: `file://${tempDir('writer')}/t`, schema });
    const good = rowsOf([base], ['a'], [[1]]);
    const expectMismatch = (rows: Table, column: RegExp) =>
      assert.rejects(writeDataFiles(io, table, rows), (e: unknown) => e instanceof DataSchemaMismatchError && column.test(e.message));
    await expectMismatch(good.select(['ts', 'sym']), /column tags: column is missing/);
    await expectMismatch(new Table({ ...Object.fromEntries(good.schema.fields.map((f) => [f.name, good.getChild(f.name)!])), extra: makeVector(new Int32Array([1])) }), /column extra: column is not in the table schema/);
    const wrongType = new Table({ ts: good.getChild('ts')!, sym: vectorFromArray([1.5], new Float64()), tags: good.getChild('tags')! });
    await expectMismatch(wrongType, /column sym: Arrow type Float64/);
    const nullTs = rowsOf([base], ['a'], [[1]]);
    const tsNull = makeData({ type: new TimestampMicrosecond('UTC'), length: 1, nullCount: 1, nullBitmap: new Uint8Array([0]), data: new BigInt64Array(1) });
    const withNull = new Table({ ts: makeVector(tsNull), sym: nullTs.getChild('sym')!, tags: nullTs.getChild('tags')! });
    await expectMismatch(withNull, /column ts: 1 null values in a required field/);
  });
});
