// Avro schemas of v2 manifest lists (field ids 500-519) and manifests
// (entry 0-4, data_file 100-143). Record names (r2, r102, r508, k117_v118, ...)
// follow Iceberg Java so files diff cleanly against theirs; readers resolve by
// field id, which is why every field and every array/map element carries one.

import { decimalParams, fixedLength, type PrimitiveType } from '../schema';
import type { PartitionField } from '../partition-spec';

const opt = (type: unknown) => ['null', type];

function metricsMap(keyId: number, valueId: number, valueType: 'long' | 'bytes'): object {
  return {
    type: 'array',
    logicalType: 'map',
    items: {
      type: 'record',
      name: `k${keyId}_v${valueId}`,
      fields: [
        { name: 'key', type: 'int', 'field-id': keyId },
        { name: 'value', type: valueType, 'field-id': valueId },
      ],
    },
  };
}

export const MANIFEST_LIST_SCHEMA_V2 = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', doc: 'Total file size in bytes', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', doc: 'Spec ID used to write', 'field-id': 502 },
    { name: 'content', type: 'int', doc: 'Contents of the manifest: 0=data, 1=deletes', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', doc: 'Sequence number when the manifest was added', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', doc: 'Lowest sequence number in the manifest', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', doc: 'Snapshot ID that added the manifest', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', doc: 'Added entry count', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', doc: 'Existing entry count', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', doc: 'Deleted entry count', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', doc: 'Added rows count', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', doc: 'Existing rows count', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', doc: 'Deleted rows count', 'field-id': 514 },
    {
      name: 'partitions',
      type: opt({
        type: 'array',
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', doc: 'True if any file has a null partition value', 'field-id': 509 },
            { name: 'contains_nan', type: opt('boolean'), doc: 'True if any file has a nan partition value', default: null, 'field-id': 518 },
            { name: 'lower_bound', type: opt('bytes'), doc: 'Partition lower bound for all files', default: null, 'field-id': 510 },
            { name: 'upper_bound', type: opt('bytes'), doc: 'Partition upper bound for all files', default: null, 'field-id': 511 },
          ],
        },
        'element-id': 508,
      }),
      doc: 'Summary for each partition',
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: opt('bytes'), doc: 'Encryption key metadata blob', default: null, 'field-id': 519 },
  ],
} as const;

/** Avro schema for a partition value of an Iceberg primitive type (logical types as Iceberg Java writes them). */
export function avroTypeFor(type: PrimitiveType, uniqueName: string): unknown {
  switch (type) {
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
      return type;
    case 'binary':
      return 'bytes';
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'uuid':
      return { type: 'fixed', name: `uuid_fixed_${uniqueName}`, size: 16, logicalType: 'uuid' };
  }
  const dec = decimalParams(type);
  if (dec) return { type: 'fixed', name: `decimal_${uniqueName}`, size: decimalRequiredBytes(dec.precision), logicalType: 'decimal', precision: dec.precision, scale: dec.scale };
  const len = fixedLength(type);
  if (len !== undefined) return { type: 'fixed', name: `fixed_${uniqueName}`, size: len };
  throw new Error(`no Avro type for ${String(type)}`);
}

/** Bytes of a fixed that holds any unscaled value of `precision` digits (Iceberg's TypeUtil.decimalRequiredBytes). */
export function decimalRequiredBytes(precision: number): number {
  let bytes = 1;
  while (2 ** (8 * bytes - 1) - 1 < 10 ** precision - 1) bytes++;
  return bytes;
}

/** Iceberg Java's AvroSchemaUtil.sanitize: Avro names allow only [A-Za-z0-9_] and no leading digit. */
export function sanitizeAvroName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    const ok = /[A-Za-z_]/.test(c) || (i > 0 && /[0-9]/.test(c));
    out += ok ? c : /[0-9]/.test(c) ? `_${c}` : `_x${c.charCodeAt(0).toString(16).toUpperCase()}`;
  }
  return out;
}

export function partitionRecordSchema(fields: Array<{ field: PartitionField; type: PrimitiveType }>): object {
  return {
    type: 'record',
    name: 'r102',
    fields: fields.map(({ field, type }) => ({
      name: sanitizeAvroName(field.name),
      type: opt(avroTypeFor(type, String(field['field-id']))),
      default: null,
      'field-id': field['field-id'],
    })),
  };
}

export function manifestEntrySchemaV2(partitionRecord: object): object {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: opt('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: opt('long'), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: opt('long'), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes', 'field-id': 134 },
            { name: 'file_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 100 },
            { name: 'file_format', type: 'string', doc: 'File format name: avro, orc, or parquet', 'field-id': 101 },
            { name: 'partition', type: partitionRecord, doc: 'Partition data tuple, schema based on the partition spec', 'field-id': 102 },
            { name: 'record_count', type: 'long', doc: 'Number of records in the file', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', doc: 'Total file size in bytes', 'field-id': 104 },
            { name: 'column_sizes', type: opt(metricsMap(117, 118, 'long')), doc: 'Map of column id to total size on disk', default: null, 'field-id': 108 },
            { name: 'value_counts', type: opt(metricsMap(119, 120, 'long')), doc: 'Map of column id to total count, including null and NaN', default: null, 'field-id': 109 },
            { name: 'null_value_counts', type: opt(metricsMap(121, 122, 'long')), doc: 'Map of column id to null value count', default: null, 'field-id': 110 },
            { name: 'nan_value_counts', type: opt(metricsMap(138, 139, 'long')), doc: 'Map of column id to number of NaN values in the column', default: null, 'field-id': 137 },
            { name: 'lower_bounds', type: opt(metricsMap(126, 127, 'bytes')), doc: 'Map of column id to lower bound', default: null, 'field-id': 125 },
            { name: 'upper_bounds', type: opt(metricsMap(129, 130, 'bytes')), doc: 'Map of column id to upper bound', default: null, 'field-id': 128 },
            { name: 'key_metadata', type: opt('bytes'), doc: 'Encryption key metadata blob', default: null, 'field-id': 131 },
            { name: 'split_offsets', type: opt({ type: 'array', items: 'long', 'element-id': 133 }), doc: 'Splittable offsets', default: null, 'field-id': 132 },
            { name: 'equality_ids', type: opt({ type: 'array', items: 'int', 'element-id': 136 }), doc: 'Equality comparison field IDs', default: null, 'field-id': 135 },
            { name: 'sort_order_id', type: opt('int'), doc: 'Sort order ID', default: null, 'field-id': 140 },
            { name: 'referenced_data_file', type: opt('string'), doc: 'Fully qualified location of a data file that all deletes reference', default: null, 'field-id': 143 },
          ],
        },
        'field-id': 2,
      },
    ],
  };
}
