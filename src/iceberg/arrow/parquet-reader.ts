// Reads a Parquet data file back into Arrow with an Iceberg schema: columns are
// resolved by field id (never by name, which may have been renamed), columns
// the file predates come back as nulls, and the type promotions Iceberg allows
// (int → long, float → double, wider decimal precision) are applied. Compaction
// and scans both read through here, so old files read like new ones.

import {
  makeBuilder, makeData, RecordBatch, Schema as ArrowSchema, Struct, Table, tableFromIPC, Type,
  type Data, type DataType, type Field,
} from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import * as pw from 'parquet-wasm';
import { DataSchemaMismatchError } from '../errors';
import type { FileIO } from '../io/file-io';
import type { NestedField } from '../spec/schema';
import { arrowField, conformData, PARQUET_FIELD_ID } from './arrow-schema';
import { validity } from './value-reader';

export interface ReadDataFileOptions {
  /** Rows per Arrow record batch. @default 65,536 */
  batchRows?: number;
}

const fieldIdOf = (f: Field): number | undefined => {
  const v = f.metadata.get(PARQUET_FIELD_ID);
  return v === undefined ? undefined : Number(v);
};

async function decode(bytes: Uint8Array, columns: string[] | undefined, batchSize: number): Promise<Table> {
  // readParquet ignores `columns` in parquet-wasm 0.8; the ParquetFile reader honours it.
  if (!columns) return tableFromIPC(pw.readParquet(bytes, { batchSize }).intoIPCStream());
  const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
  try {
    return tableFromIPC((await file.read({ columns, batchSize })).intoIPCStream());
  } finally {
    file.free();
  }
}

function nullData(type: DataType, length: number): Data {
  const b = makeBuilder({ type, nullValues: [null] });
  for (let i = 0; i < length; i++) b.append(null);
  return b.finish().flush();
}

/** Copies a narrower int/float column into the promoted type (Iceberg's int → long, float → double). */
function promote(data: Data, dst: DataType): Data {
  const valid = validity(data);
  const n = data.length;
  const src = data.values as Int32Array | Float32Array;
  const values = dst.typeId === Type.Int ? BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.trunc(src[i]!))) : Float64Array.from(src.subarray(0, n));
  let nullBitmap: Uint8Array | undefined;
  if (data.nullCount > 0) {
    nullBitmap = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) if (valid(i)) nullBitmap[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({ type: dst as never, length: n, nullCount: data.nullCount, data: values as never, ...(nullBitmap ? { nullBitmap } : {}) });
}

const bitWidth = (t: DataType): number => (t as unknown as { bitWidth: number }).bitWidth;
const precision = (t: DataType): number => (t as unknown as { precision: number }).precision;

function isPromotion(src: DataType, dst: DataType): boolean {
  if (dst.typeId === Type.Int && bitWidth(dst) === 64) return src.typeId === Type.Int && bitWidth(src) === 32;
  if (dst.typeId === Type.Float) return src.typeId === Type.Float && precision(src) < precision(dst);
  return false;
}

/**
 * Reads `fields` (top-level fields of the table schema, in the order wanted)
 * from one data file. The result's Arrow schema is exactly
 * arrowSchema({ fields }), so it can go straight back into writeDataFiles.
 */
export async function readDataFile(io: FileIO, path: string, fields: NestedField[], opts: ReadDataFileOptions = {}): Promise<Table> {
  const bytes = await io.read(path);
  const batchSize = opts.batchRows ?? 65_536;
  // Resolve ids against the file's own schema first, so only needed columns are decoded.
  const fileSchema = tableFromIPC(pw.readSchema(bytes).intoIPCStream()).schema;
  const byId = new Map<number, Field>();
  for (const f of fileSchema.fields) {
    const id = fieldIdOf(f);
    if (id !== undefined) byId.set(id, f);
  }
  if (byId.size === 0 && fileSchema.fields.length > 0) {
    throw new DataSchemaMismatchError('(file)', `data file ${path} has no Parquet field ids; files written without them need a name mapping, which this reader does not support`);
  }
  const wanted = fields.map((f) => byId.get(f.id)?.name).filter((n): n is string => n !== undefined);
  const everyColumn = wanted.length === fileSchema.fields.length;
  const decoded = wanted.length === 0 ? undefined : await decode(bytes, everyColumn ? undefined : wanted, batchSize);
  // Nothing to decode (only columns the file predates): the row count still comes from the footer.
  const rows = decoded?.numRows ?? Number(parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).num_rows);
  const target = new ArrowSchema(fields.map(arrowField));
  const colIndex = fields.map((f) => decoded?.schema.fields.findIndex((x) => fieldIdOf(x) === f.id) ?? -1);
  const batches = decoded?.batches ?? [undefined];
  const out = batches.map((batch) => {
    const length = batch?.numRows ?? rows;
    const children = target.fields.map((dst, j) => {
      const src = batch && colIndex[j]! >= 0 ? batch.data.children[colIndex[j]!]! : undefined;
      if (!src) {
        if (!dst.nullable) throw new DataSchemaMismatchError(dst.name, `required field is missing from data file ${path}`);
        return nullData(dst.type, length);
      }
      return isPromotion(src.type, dst.type) ? promote(src, dst.type) : conformData(src, dst, dst.name);
    });
    return new RecordBatch(target, makeData({ type: new Struct(target.fields), length, nullCount: 0, children }));
  });
  return new Table(target, out);
}
