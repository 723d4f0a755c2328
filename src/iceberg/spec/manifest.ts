// Manifest files (v2): the data_file entries of one snapshot's commit.

import { AvroFormatError } from '../errors';
import { decodeAvroContainer, encodeAvroContainer } from './avro/container';
import { decimalRequiredBytes, manifestEntrySchemaV2, partitionRecordSchema, sanitizeAvroName } from './avro/schemas';
import type { PartitionField, PartitionSpec } from './partition-spec';
import { decimalParams, findField, type PrimitiveType, type Schema } from './schema';
import { parseTransform, transformResultType } from './transforms';
import { fromBigEndian, type IcebergValue } from './values';

/** A data file as recorded in a manifest (spec `data_file`, v2). Counts are numbers: they stay far below 2^53. */
export interface DataFile {
  content: 0;
  file_path: string;
  file_format: 'PARQUET';
  /** Partition spec the `partition` tuple belongs to (stored in the manifest, not in data_file). */
  spec_id: number;
  /** Partition values keyed by partition field name, in Iceberg's internal representation (see spec/values.ts). */
  partition: Record<string, IcebergValue | null>;
  record_count: number;
  file_size_in_bytes: number;
  column_sizes?: Record<number, number>;
  value_counts?: Record<number, number>;
  null_value_counts?: Record<number, number>;
  nan_value_counts?: Record<number, number>;
  lower_bounds?: Record<number, Uint8Array>;
  upper_bounds?: Record<number, Uint8Array>;
  split_offsets?: number[];
  sort_order_id?: number;
}

export const EntryStatus = { EXISTING: 0, ADDED: 1, DELETED: 2 } as const;
export type EntryStatus = (typeof EntryStatus)[keyof typeof EntryStatus];

export interface ManifestEntry {
  status: EntryStatus;
  /** null = inherited from the manifest list entry. */
  snapshot_id: bigint | null;
  sequence_number: number | null;
  file_sequence_number: number | null;
  data_file: DataFile;
}

export interface PartitionFieldType {
  field: PartitionField;
  type: PrimitiveType;
}

/** The partition tuple's field types for `spec` against `schema`. */
export function partitionType(spec: PartitionSpec, schema: Schema): PartitionFieldType[] {
  return spec.fields.map((field) => {
    const source = findField(schema, field['source-id']);
    const type = source && transformResultType(parseTransform(field.transform), source.type);
    if (!type) throw new AvroFormatError('(partition spec)', `partition field ${field.name} has no valid source column ${field['source-id']}`);
    return { field, type };
  });
}

function toAvroPartitionValue(type: PrimitiveType, v: IcebergValue | null): unknown {
  if (v === null) return null;
  const dec = decimalParams(type);
  if (dec) {
    const size = decimalRequiredBytes(dec.precision);
    const buf = Buffer.alloc(size);
    let x = BigInt.asUintN(8 * size, v as bigint);
    for (let i = size - 1; i >= 0; i--) { buf[i] = Number(x & 0xffn); x >>= 8n; }
    return buf;
  }
  if (v instanceof Uint8Array) return Buffer.from(v);
  return v;
}

function fromAvroPartitionValue(type: PrimitiveType, v: unknown): IcebergValue | null {
  if (v === null || v === undefined) return null;
  if (decimalParams(type)) return fromBigEndian(v as Uint8Array);
  if (Buffer.isBuffer(v)) return new Uint8Array(v);
  if (type === 'int' || type === 'date') return Number(v);
  return v as IcebergValue;
}

const mapToAvro = <V>(m: Record<number, V> | undefined, conv: (v: V) => unknown) =>
  m === undefined ? null : Object.entries(m).map(([k, v]) => ({ key: Number(k), value: conv(v) }));

const mapFromAvro = <V>(a: unknown, conv: (v: unknown) => V): Record<number, V> | undefined => {
  if (!Array.isArray(a)) return undefined;
  const out: Record<number, V> = {};
  for (const kv of a as Array<{ key: number; value: unknown }>) out[kv.key] = conv(kv.value);
  return out;
};

const num = (v: unknown): number => Number(v);
const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Buffer);

/** Encodes a v2 data manifest. `schema` and `spec` go into the file metadata readers use to interpret it. */
export function encodeManifest(entries: ManifestEntry[], spec: PartitionSpec, schema: Schema): Uint8Array {
  const ptype = partitionType(spec, schema);
  const avroSchema = manifestEntrySchemaV2(partitionRecordSchema(ptype));
  const records = entries.map((e) => {
    const f = e.data_file;
    const partition: Record<string, unknown> = {};
    for (const { field, type } of ptype) partition[sanitizeAvroName(field.name)] = toAvroPartitionValue(type, f.partition[field.name] ?? null);
    return {
      status: e.status,
      snapshot_id: e.snapshot_id,
      sequence_number: e.sequence_number,
      file_sequence_number: e.file_sequence_number,
      data_file: {
        content: f.content,
        file_path: f.file_path,
        file_format: f.file_format,
        partition,
        record_count: f.record_count,
        file_size_in_bytes: f.file_size_in_bytes,
        column_sizes: mapToAvro(f.column_sizes, (v) => v),
        value_counts: mapToAvro(f.value_counts, (v) => v),
        null_value_counts: mapToAvro(f.null_value_counts, (v) => v),
        nan_value_counts: mapToAvro(f.nan_value_counts, (v) => v),
        lower_bounds: mapToAvro(f.lower_bounds, (v) => Buffer.from(v)),
        upper_bounds: mapToAvro(f.upper_bounds, (v) => Buffer.from(v)),
        key_metadata: null,
        split_offsets: f.split_offsets ?? null,
        equality_ids: null,
        sort_order_id: f.sort_order_id ?? null,
        referenced_data_file: null,
      },
    };
  });
  return encodeAvroContainer(avroSchema, records, {
    schema: JSON.stringify(schema),
    'schema-id': String(schema['schema-id']),
    'partition-spec': JSON.stringify(spec.fields),
    'partition-spec-id': String(spec['spec-id']),
    'format-version': '2',
    content: 'data',
  });
}

/**
 * Decodes a manifest. Partition values are matched to `spec` by field id (from
 * the writer's Avro schema), so files written by other engines decode too.
 * Sequence numbers and snapshot ids stay as written (null = inherit).
 */
export function decodeManifest(bytes_: Uint8Array, fileUri: string, spec: PartitionSpec, schema: Schema): ManifestEntry[] {
  const { schema: writerSchema, metadata, records } = decodeAvroContainer(bytes_, fileUri);
  if (metadata.content === 'deletes') throw new AvroFormatError(fileUri, 'delete manifests are not supported by this reader');
  const fileSchema: Schema = metadata.schema ? (JSON.parse(metadata.schema) as Schema) : schema;
  const ptype = partitionType(spec, fileSchema);
  const idByAvroName = new Map<string, number>();
  const entryFields = (writerSchema as { fields?: Array<{ name: string; type: { fields?: Array<{ name: string; type: { fields?: Array<{ name: string; 'field-id'?: number }> } }> } }> }).fields ?? [];
  const partitionFields = entryFields.find((f) => f.name === 'data_file')?.type.fields?.find((f) => f.name === 'partition')?.type.fields ?? [];
  for (const f of partitionFields) if (f['field-id'] !== undefined) idByAvroName.set(f.name, f['field-id']);
  return records.map((r) => {
    const d = r.data_file as Record<string, unknown>;
    const rawPartition = (d.partition ?? {}) as Record<string, unknown>;
    const partition: Record<string, IcebergValue | null> = {};
    for (const { field, type } of ptype) {
      const avroName = [...idByAvroName].find(([, id]) => id === field['field-id'])?.[0] ?? sanitizeAvroName(field.name);
      partition[field.name] = fromAvroPartitionValue(type, rawPartition[avroName]);
    }
    const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
    const file: DataFile = {
      content: 0,
      file_path: String(d.file_path),
      file_format: String(d.file_format).toUpperCase() as 'PARQUET',
      spec_id: spec['spec-id'],
      partition,
      record_count: Number(d.record_count),
      file_size_in_bytes: Number(d.file_size_in_bytes),
    };
    if (Number(d.content ?? 0) !== 0) throw new AvroFormatError(fileUri, `entry ${file.file_path} is a delete file (content=${String(d.content)})`);
    const cs = mapFromAvro(d.column_sizes, num); if (cs) file.column_sizes = cs;
    const vc = mapFromAvro(d.value_counts, num); if (vc) file.value_counts = vc;
    const nc = mapFromAvro(d.null_value_counts, num); if (nc) file.null_value_counts = nc;
    const nan = mapFromAvro(d.nan_value_counts, num); if (nan) file.nan_value_counts = nan;
    const lb = mapFromAvro(d.lower_bounds, bytes); if (lb) file.lower_bounds = lb;
    const ub = mapFromAvro(d.upper_bounds, bytes); if (ub) file.upper_bounds = ub;
    if (Array.isArray(d.split_offsets)) file.split_offsets = (d.split_offsets as unknown[]).map(num);
    if (d.sort_order_id !== null && d.sort_order_id !== undefined) file.sort_order_id = Number(d.sort_order_id);
    return {
      status: Number(r.status) as EntryStatus,
      snapshot_id: r.snapshot_id === null || r.snapshot_id === undefined ? null : BigInt(r.snapshot_id as bigint),
      sequence_number: optNum(r.sequence_number),
      file_sequence_number: optNum(r.file_sequence_number),
      data_file: file,
    };
  });
}
