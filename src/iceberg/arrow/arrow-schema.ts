// Iceberg schema → Arrow schema for parquet-wasm, and re-labelling the Arrow
// data ClickHouse returns with that schema. Re-labelling only swaps the type
// object over identical buffers (no value is copied or converted); anything
// that would need a real conversion is refused, because the SELECT list from
// icebergSchemaFromClickHouse is supposed to produce the exact layout already.

import { isUtf8 } from 'node:buffer';
import type { DataType} from 'apache-arrow';
import {
  Binary, Bool, DateDay, Decimal, Field, FixedSizeBinary, Float32, Float64, Int32, Int64, List, Map_,
  RecordBatch, Schema as ArrowSchema, Struct, Table, TimestampMicrosecond, Type, Utf8, makeData, type Data, TimeUnit, DateUnit,
  Precision, type Timestamp,
} from 'apache-arrow';
import { DataSchemaMismatchError } from '../errors';
import { decimalParams, fixedLength, type IcebergType, type NestedField, type Schema } from '../spec/schema';

/** parquet-wasm (arrow-rs) turns this Arrow field metadata key into the Parquet field_id readers project by. */
export const PARQUET_FIELD_ID = 'PARQUET:field_id';

const idMeta = (id: number) => new Map([[PARQUET_FIELD_ID, String(id)]]);

export function arrowType(t: IcebergType): DataType {
  if (typeof t !== 'string') {
    if (t.type === 'list') return new List(new Field('element', arrowType(t.element), !t['element-required'], idMeta(t['element-id'])));
    if (t.type === 'map') {
      const entries = new Struct([
        new Field('key', arrowType(t.key), false, idMeta(t['key-id'])),
        new Field('value', arrowType(t.value), !t['value-required'], idMeta(t['value-id'])),
      ]);
      return new Map_(new Field('key_value', entries, false));
    }
    return new Struct(t.fields.map(arrowField));
  }
  switch (t) {
    case 'boolean': return new Bool();
    case 'int': return new Int32();
    case 'long': return new Int64();
    case 'float': return new Float32();
    case 'double': return new Float64();
    case 'date': return new DateDay();
    case 'timestamp': return new TimestampMicrosecond(null);
    case 'timestamptz': return new TimestampMicrosecond('UTC');
    case 'string': return new Utf8();
    case 'binary': return new Binary();
    case 'uuid': return new FixedSizeBinary(16);
    case 'time': break;
    default: {
      const dec = decimalParams(t);
      if (dec) return new Decimal(dec.scale, dec.precision, 128);
      const len = fixedLength(t);
      if (len !== undefined) return new FixedSizeBinary(len);
    }
  }
  throw new DataSchemaMismatchError('(schema)', `Iceberg type ${t} is not supported by the Parquet writer`);
}

export function arrowField(f: NestedField): Field {
  return new Field(f.name, arrowType(f.type), !f.required, idMeta(f.id));
}

export function arrowSchema(schema: Schema): ArrowSchema {
  return new ArrowSchema(schema.fields.map(arrowField));
}

/** Whether `src` data can be re-labelled as `dst` (same physical layout, same meaning). */
function sameLayout(src: DataType, dst: DataType): boolean {
  switch (dst.typeId) {
    case Type.Bool: return src.typeId === Type.Bool;
    case Type.Int: return src.typeId === Type.Int && (src as Int32).bitWidth === (dst as Int32).bitWidth && (src as Int32).isSigned;
    case Type.Float: return src.typeId === Type.Float && (src as Float32).precision === (dst as Float32).precision;
    case Type.Decimal: {
      const s = src as Decimal;
      const d = dst as Decimal;
      return src.typeId === Type.Decimal && s.bitWidth === 128 && s.scale === d.scale && s.precision <= d.precision;
    }
    case Type.Date: return src.typeId === Type.Date && (src as DateDay).unit === DateUnit.DAY;
    case Type.Timestamp: return src.typeId === Type.Timestamp && (src as Timestamp).unit === TimeUnit.MICROSECOND;
    case Type.Utf8:
    case Type.Binary: return src.typeId === Type.Utf8 || src.typeId === Type.Binary;
    case Type.FixedSizeBinary: return src.typeId === Type.FixedSizeBinary && (src as FixedSizeBinary).byteWidth === (dst as FixedSizeBinary).byteWidth;
    default: return src.typeId === dst.typeId;
  }
}

function describe(t: DataType): string {
  return `${String(t)}${t.typeId === Type.Float ? `(${Precision[(t as Float32).precision]})` : ''}`;
}

/** Re-labels one column chunk as `dst` (see conformToSchema); throws DataSchemaMismatchError if it would need a conversion. */
export function conformData(data: Data, dst: Field, path: string): Data {
  if (!sameLayout(data.type, dst.type)) {
    const hint = data.type.typeId === Type.Dictionary ? ' (dictionary-encoded: select LowCardinality columns via the generated CAST)' : '';
    throw new DataSchemaMismatchError(path, `Arrow type ${describe(data.type)} cannot be written as ${describe(dst.type)}${hint}; use the select list from icebergSchemaFromClickHouse`);
  }
  if (!dst.nullable && data.nullCount > 0) throw new DataSchemaMismatchError(path, `${data.nullCount} null values in a required field`);
  const dstChildren = (dst.type as DataType).children ?? [];
  const children = dstChildren.map((childField: Field, i: number) => {
    const child = data.children[i];
    if (!child) throw new DataSchemaMismatchError(`${path}.${childField.name}`, 'missing nested data');
    return conformData(child, childField, `${path}.${childField.name}`);
  });
  return data.clone(dst.type, data.offset, data.length, data.nullCount, data.buffers as never, children);
}

/** Index of the first value of a Utf8 chunk that is not valid UTF-8, or -1. */
function firstInvalidUtf8(data: Data): number {
  const offsets = data.valueOffsets as Int32Array | undefined;
  const bytes = data.values as Uint8Array | undefined;
  if (!offsets || !bytes || data.length === 0) return -1;
  const end = offsets[data.length]!;
  // Fast path: the chunk's bytes are valid as a whole and no value starts inside a multi-byte character.
  if (isUtf8(bytes.subarray(offsets[0]!, end))) {
    let boundaries = true;
    for (let i = 1; i < data.length && boundaries; i++) if (offsets[i]! < end && (bytes[offsets[i]!]! & 0xc0) === 0x80) boundaries = false;
    if (boundaries) return -1;
  }
  for (let i = 0; i < data.length; i++) if (!isUtf8(bytes.subarray(offsets[i]!, offsets[i + 1]!))) return i;
  return -1;
}

/**
 * Refuses strings that are not UTF-8. Iceberg strings are UTF-8 by the spec; ClickHouse String is any bytes.
 * Written as-is, such a value is read differently by each reader (replacement characters in Java/Python), and its
 * column bounds (computed on decoded text) would not cover the stored bytes, so readers could skip the file.
 */
function checkUtf8(data: Data, field: Field, path: string, where: string): void {
  if (field.type.typeId === Type.Utf8) {
    const row = firstInvalidUtf8(data);
    if (row >= 0) {
      const offsets = data.valueOffsets as Int32Array;
      const sample = Buffer.from((data.values as Uint8Array).subarray(offsets[row]!, Math.min(offsets[row + 1]!, offsets[row]! + 16))).toString('hex');
      throw new DataSchemaMismatchError(
        path,
        `${where}a value is not valid UTF-8 (bytes ${sample}${offsets[row + 1]! - offsets[row]! > 16 ? '…' : ''}); Iceberg strings must be UTF-8. Clean the column in a view over the source (e.g. toValidUTF8(${path.split('.')[0]})) or offload it as FixedString/binary`,
      );
    }
  }
  const children = (field.type as DataType).children ?? [];
  children.forEach((c: Field, i: number) => data.children[i] && checkUtf8(data.children[i], c, `${path}.${c.name}`, where));
}

/**
 * Returns `rows` with the table's Arrow schema (field ids, required/optional,
 * Iceberg types). Columns are matched by name; a missing or extra column, a
 * type needing conversion, nulls in a required field, or a string that is not UTF-8 throw DataSchemaMismatchError.
 */
export function conformToSchema(rows: Table, schema: Schema, opts: { table?: string } = {}): Table {
  const target = arrowSchema(schema);
  const srcNames = rows.schema.fields.map((f) => f.name);
  const extra = srcNames.filter((n) => !schema.fields.some((f) => f.name === n));
  if (extra.length) throw new DataSchemaMismatchError(extra.join(', '), 'column is not in the table schema (its data would be lost); if the source gained columns, pass the evolved schema: writeDataFiles(..., { schema }) and prepareAppend(..., { schema })');
  const index = target.fields.map((f) => {
    const i = srcNames.indexOf(f.name);
    if (i < 0) throw new DataSchemaMismatchError(f.name, 'column is missing from the rows');
    return i;
  });
  const batches = rows.batches.map((batch) => {
    const children = target.fields.map((f, j) => conformData(batch.data.children[index[j]!]!, f, f.name));
    children.forEach((c, j) => checkUtf8(c, target.fields[j]!, target.fields[j]!.name, opts.table ? `table ${opts.table}: ` : ''));
    const struct = makeData({ type: new Struct(target.fields), length: batch.numRows, nullCount: 0, children });
    return new RecordBatch(target, struct);
  });
  return new Table(target, batches);
}
