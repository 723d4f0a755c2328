// Adopting a Parquet file another writer encoded (ClickHouse's `FORMAT Parquet`) as an Iceberg data file: check that
// every column is stored exactly as the Iceberg spec maps its type (Appendix "Parquet"), add the field ids readers
// project by, and read column bounds from the row-group statistics. Only the footer (FileMetaData) is rewritten: the
// column chunks, page indexes and bloom filters keep their offsets, which all point before the footer.

import { DataSchemaMismatchError, IcebergArgumentError } from '../errors';
import { decimalParams, fixedLength, isPrimitive, type PrimitiveType, type Schema } from '../spec/schema';
import { compareValues, fromBigEndian, type IcebergValue } from '../spec/values';
import { decodeStruct, encodeStruct, getField, setField, T, type TList, type TStruct } from './thrift-compact';

// parquet.thrift field ids and enum values used below.
export const FILE = { schema: 2, rowGroups: 4 } as const;
export const EL = { type: 1, typeLength: 2, repetition: 3, name: 4, numChildren: 5, convertedType: 6, scale: 7, precision: 8, fieldId: 9, logicalType: 10 } as const;
const PHYSICAL = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;
const REQUIRED = 0;
const CONVERTED = { UTF8: 0, DECIMAL: 5, DATE: 6 } as const;
export const LOGICAL = { STRING: 1, DECIMAL: 5, DATE: 6, TIMESTAMP: 8, INTEGER: 10, UUID: 14 } as const;
export const RG = { columns: 1 } as const;
export const CHUNK = { metaData: 3 } as const;
export const COLMETA = { path: 3, numValues: 5, statistics: 12 } as const;
export const STATS = { nullCount: 3, maxValue: 5, minValue: 6 } as const;

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1

/** Bytes needed for a decimal of `precision` digits as two's complement (the spec's minimum for fixed). */
export function decimalRequiredBytes(precision: number): number {
  let n = 1;
  while (10n ** BigInt(precision) > 1n << BigInt(8 * n - 1)) n++;
  return n;
}

export interface Footer {
  meta: TStruct;
  /** Byte offset where the FileMetaData starts. */
  start: number;
}

export function decodeFooter(file: Uint8Array, where: string): Footer {
  const n = file.length;
  const magicOk = (at: number) => MAGIC.every((b, i) => file[at + i] === b);
  if (n < 12 || !magicOk(0) || !magicOk(n - 4)) throw new IcebergArgumentError(`${where}: not a Parquet file (no PAR1 magic)`);
  const length = new DataView(file.buffer, file.byteOffset, n).getUint32(n - 8, true);
  const start = n - 8 - length;
  if (start < 4) throw new IcebergArgumentError(`${where}: Parquet footer length ${length} exceeds the file`);
  return { meta: decodeStruct(file.subarray(start, n - 8)), start };
}

const num = (v: unknown): number | undefined => (typeof v === 'bigint' ? Number(v) : undefined);
const text = (v: unknown): string => new TextDecoder().decode(v as Uint8Array);

/** The LogicalType union's member id and struct, if any. */
function logical(el: TStruct): { kind: number; value: TStruct } | undefined {
  const lt = getField(el, EL.logicalType) as TStruct | undefined;
  const member = lt?.[0];
  return member ? { kind: member.id, value: member.value as TStruct } : undefined;
}

/**
 * Checks a top-level column's Parquet type against the Iceberg type; returns what is wrong, or undefined. Decimals
 * stored as plain INT32/INT64 (unscaled, as Iceberg Java writes precision ≤ 18) are accepted and annotated by the caller.
 */
function typeMismatch(el: TStruct, type: PrimitiveType): string | undefined {
  const physical = num(getField(el, EL.type));
  const lt = logical(el);
  const converted = num(getField(el, EL.convertedType));
  const want = (p: number, ok: boolean, what: string) => (physical === p && ok ? undefined : `stored as ${describe(el)}, expected ${what}`);
  const plainInt = (bits: number) => !lt || (lt.kind === LOGICAL.INTEGER && num(getField(lt.value, 1)) === bits && getField(lt.value, 2) === true);
  const dec = decimalParams(type);
  if (dec) {
    if (physical === PHYSICAL.INT32 || physical === PHYSICAL.INT64) {
      const fits = physical === PHYSICAL.INT32 ? dec.precision <= 9 : dec.precision <= 18;
      return !lt && converted === undefined && fits ? undefined : `stored as ${describe(el)}, expected unannotated INT32/INT64 unscaled values for decimal(${dec.precision},${dec.scale})`;
    }
    const ok = lt?.kind === LOGICAL.DECIMAL && num(getField(lt.value, 1)) === dec.scale && num(getField(lt.value, 2)) === dec.precision && num(getField(el, EL.typeLength)) === decimalRequiredBytes(dec.precision);
    return want(PHYSICAL.FIXED_LEN_BYTE_ARRAY, ok, `FIXED_LEN_BYTE_ARRAY(${decimalRequiredBytes(dec.precision)}) DECIMAL(${dec.precision},${dec.scale})`);
  }
  const fixed = fixedLength(type);
  if (fixed !== undefined) return want(PHYSICAL.FIXED_LEN_BYTE_ARRAY, num(getField(el, EL.typeLength)) === fixed && !lt, `FIXED_LEN_BYTE_ARRAY(${fixed})`);
  switch (type) {
    case 'boolean':
      return want(PHYSICAL.BOOLEAN, true, 'BOOLEAN');
    case 'int':
      return want(PHYSICAL.INT32, plainInt(32), 'INT32');
    case 'long':
      return want(PHYSICAL.INT64, plainInt(64), 'INT64');
    case 'float':
      return want(PHYSICAL.FLOAT, true, 'FLOAT');
    case 'double':
      return want(PHYSICAL.DOUBLE, true, 'DOUBLE');
    case 'date':
      return want(PHYSICAL.INT32, lt?.kind === LOGICAL.DATE || converted === CONVERTED.DATE, 'INT32 DATE');
    case 'string':
      return want(PHYSICAL.BYTE_ARRAY, lt?.kind === LOGICAL.STRING || converted === CONVERTED.UTF8, 'BYTE_ARRAY STRING');
    case 'uuid':
      return want(PHYSICAL.FIXED_LEN_BYTE_ARRAY, num(getField(el, EL.typeLength)) === 16 && lt?.kind === LOGICAL.UUID, 'FIXED_LEN_BYTE_ARRAY(16) UUID');
    case 'timestamptz': {
      const ts = lt?.kind === LOGICAL.TIMESTAMP ? lt.value : undefined;
      const micros = ts && (getField(ts, 2) as TStruct | undefined)?.[0]?.id === 2;
      return want(PHYSICAL.INT64, !!ts && getField(ts, 1) === true && !!micros, 'INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true)');
    }
    default:
      return `Iceberg type ${type} is not adopted from foreign Parquet files`;
  }
}

function describe(el: TStruct): string {
  const names = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'];
  const physical = num(getField(el, EL.type));
  const len = num(getField(el, EL.typeLength));
  const lt = logical(el);
  return `${physical === undefined ? 'group' : names[physical] ?? physical}${len !== undefined ? `(${len})` : ''}${lt ? ` logical#${lt.kind}` : ''}`;
}

/**
 * `file` (a Parquet file whose top-level columns are named like `schema`'s fields) with Iceberg field ids in its
 * schema and DECIMAL annotations on decimals stored as unscaled INT32/INT64. Throws DataSchemaMismatchError naming
 * the column when a column is missing, extra, nested, or stored differently from what its Iceberg type requires.
 */
export function adoptParquet(file: Uint8Array, schema: Schema, where = 'parquet file'): Uint8Array {
  const { meta, start } = decodeFooter(file, where);
  const elements = (getField(meta, FILE.schema) as TList | undefined)?.items as TStruct[] | undefined;
  if (!elements?.length) throw new IcebergArgumentError(`${where}: the Parquet footer has no schema`);
  const columns = elements.slice(1);
  if (columns.length !== schema.fields.length || num(getField(elements[0]!, EL.numChildren)) !== schema.fields.length) {
    throw new DataSchemaMismatchError(columns.map((c) => text(getField(c, EL.name))).join(', '), `${where}: expected exactly the flat columns ${schema.fields.map((f) => f.name).join(', ')}`);
  }
  schema.fields.forEach((field, i) => {
    const el = columns[i]!;
    const name = text(getField(el, EL.name));
    const fail = (why: string): never => {
      throw new DataSchemaMismatchError(field.name, `${where}: ${why}`);
    };
    if (name !== field.name) fail(`column ${i + 1} is ${JSON.stringify(name)}`);
    if (!isPrimitive(field.type) || num(getField(el, EL.numChildren))) fail('nested columns are not adopted');
    const type = field.type as PrimitiveType;
    const required = num(getField(el, EL.repetition)) === REQUIRED;
    if (required !== field.required) fail(`stored as ${required ? 'REQUIRED' : 'OPTIONAL'} but the field is ${field.required ? 'required' : 'optional'}`);
    const mismatch = typeMismatch(el, type);
    if (mismatch) fail(mismatch);
    const dec = decimalParams(type);
    const physical = num(getField(el, EL.type));
    if (dec && (physical === PHYSICAL.INT32 || physical === PHYSICAL.INT64)) {
      setField(el, EL.convertedType, T.I32, BigInt(CONVERTED.DECIMAL));
      setField(el, EL.scale, T.I32, BigInt(dec.scale));
      setField(el, EL.precision, T.I32, BigInt(dec.precision));
      setField(el, EL.logicalType, T.STRUCT, [{ id: LOGICAL.DECIMAL, type: T.STRUCT, value: [{ id: 1, type: T.I32, value: BigInt(dec.scale) }, { id: 2, type: T.I32, value: BigInt(dec.precision) }] }]);
    }
    setField(el, EL.fieldId, T.I32, BigInt(field.id));
  });

  return replaceFooter(file, { meta, start });
}

/** `file` with its FileMetaData replaced by `footer.meta` (re-encoded); everything before the footer is kept as is. */
export function replaceFooter(file: Uint8Array, footer: Footer): Uint8Array {
  const { meta, start } = footer;
  const encoded = encodeStruct(meta);
  const out = new Uint8Array(start + encoded.length + 8);
  out.set(file.subarray(0, start), 0);
  out.set(encoded, start);
  new DataView(out.buffer, out.byteOffset + start + encoded.length, 4).setUint32(0, encoded.length, true);
  out.set(MAGIC, start + encoded.length + 4);
  return out;
}

/** A statistics value (PLAIN encoding of the physical type) as the Iceberg internal value of `type`. */
function statValue(bytes: Uint8Array, physical: number, type: PrimitiveType): IcebergValue | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number) => bytes.byteLength === n;
  if (decimalParams(type)) {
    if (physical === PHYSICAL.INT32) return need(4) ? BigInt(view.getInt32(0, true)) : undefined;
    if (physical === PHYSICAL.INT64) return need(8) ? view.getBigInt64(0, true) : undefined;
    return bytes.byteLength ? fromBigEndian(bytes) : undefined;
  }
  switch (type) {
    case 'boolean':
      return need(1) ? bytes[0] !== 0 : undefined;
    case 'int':
    case 'date':
      return need(4) ? view.getInt32(0, true) : undefined;
    case 'long':
    case 'timestamptz':
      return need(8) ? view.getBigInt64(0, true) : undefined;
    case 'float':
      return need(4) ? view.getFloat32(0, true) : undefined;
    case 'double':
      return need(8) ? view.getFloat64(0, true) : undefined;
    case 'string':
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    default:
      return bytes.slice();
  }
}

export interface ParquetBounds {
  /** File-wide min/max per field id (internal representation), for columns whose every row group has statistics. */
  min: Record<number, IcebergValue>;
  max: Record<number, IcebergValue>;
  /** Null counts per field id, where every row group reports one; required columns count 0. */
  nulls: Record<number, number>;
}

/**
 * Column bounds of an adopted file from its row-group statistics (min_value/max_value, which are exact or, when a
 * writer truncated them, still bounds). A column loses its bounds when any row group with non-null values has no
 * statistics; NaN never becomes a bound, and a zero lower (upper) bound widens to -0.0 (+0.0), so a float's
 * bounds always cover both zeros.
 */
export function parquetBounds(file: Uint8Array, schema: Schema): ParquetBounds {
  const { meta } = decodeFooter(file, 'parquet file');
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  const out: ParquetBounds = { min: {}, max: {}, nulls: {} };
  const noBounds = new Set<number>();
  const noNulls = new Set<number>();
  for (const rg of ((getField(meta, FILE.rowGroups) as TList | undefined)?.items ?? []) as TStruct[]) {
    for (const chunk of ((getField(rg, RG.columns) as TList).items ?? []) as TStruct[]) {
      const md = getField(chunk, CHUNK.metaData) as TStruct | undefined;
      const path = ((getField(md ?? [], COLMETA.path) as TList | undefined)?.items ?? []).map(text);
      const field = path.length === 1 ? byName.get(path[0]!) : undefined;
      if (!md || !field || !isPrimitive(field.type)) continue;
      const type = field.type;
      const stats = getField(md, COLMETA.statistics) as TStruct | undefined;
      const nulls = num(getField(stats ?? [], STATS.nullCount));
      if (field.required) out.nulls[field.id] = 0;
      else if (nulls === undefined) noNulls.add(field.id);
      else out.nulls[field.id] = (out.nulls[field.id] ?? 0) + nulls;
      const values = num(getField(md, COLMETA.numValues)) ?? 0;
      if (values > 0 && nulls === values) continue; // only nulls here: nothing to bound
      const lo = getField(stats ?? [], STATS.minValue) as Uint8Array | undefined;
      const hi = getField(stats ?? [], STATS.maxValue) as Uint8Array | undefined;
      const physical = num(getField(md, 1))!;
      let min: IcebergValue | undefined;
      let max: IcebergValue | undefined;
      try {
        min = lo && statValue(lo, physical, type);
        max = hi && statValue(hi, physical, type);
      } catch {
        // a string statistic that is not UTF-8 (a writer truncated inside a character): no bound
      }
      if (min === undefined || max === undefined || (typeof min === 'number' && Number.isNaN(min)) || (typeof max === 'number' && Number.isNaN(max))) {
        noBounds.add(field.id);
        continue;
      }
      if (out.min[field.id] === undefined || compareValues(min, out.min[field.id]!) < 0) out.min[field.id] = min;
      if (out.max[field.id] === undefined || compareValues(max, out.max[field.id]!) > 0) out.max[field.id] = max;
    }
  }
  for (const id of noBounds) {
    delete out.min[id];
    delete out.max[id];
  }
  for (const id of noNulls) delete out.nulls[id];
  for (const f of schema.fields) {
    if ((f.type === 'float' || f.type === 'double') && out.min[f.id] === 0) out.min[f.id] = -0;
    if ((f.type === 'float' || f.type === 'double') && out.max[f.id] === 0) out.max[f.id] = 0;
  }
  return out;
}
