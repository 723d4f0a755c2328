// Manifests and manifest lists: round trip through our own Avro reader, and
// the field ids the spec mandates (checked against a hand-written fixture).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { decodeAvroContainer } from '../../src/iceberg/spec/avro/container';
import { decodeManifest, encodeManifest, EntryStatus, type ManifestEntry } from '../../src/iceberg/spec/manifest';
import { decodeManifestList, encodeManifestList, type ManifestFile } from '../../src/iceberg/spec/manifest-list';
import type { PartitionSpec } from '../../src/iceberg/spec/partition-spec';
import type { Schema } from '../../src/iceberg/spec/schema';
import { toBinary } from '../../src/iceberg/spec/values';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/avro-field-ids-v2.json', import.meta.url), 'utf8')) as {
  manifest_list: Record<string, number>;
  manifest_entry: Record<string, number>;
  manifest_metadata_keys: string[];
};

const schema: Schema = {
  type: 'struct',
  'schema-id': 3,
  fields: [
    { id: 1, name: 'exchange_timestamp', required: true, type: 'timestamptz' },
    { id: 2, name: 'symbol', required: true, type: 'string' },
    { id: 3, name: 'price', required: false, type: 'decimal(18,8)' },
  ],
};
const spec: PartitionSpec = {
  'spec-id': 0,
  fields: [
    { name: 'exchange_timestamp_day', transform: 'day', 'source-id': 1, 'field-id': 1000 },
    { name: 'symbol_bucket', transform: 'bucket[8]', 'source-id': 2, 'field-id': 1001 },
  ],
};

/** Flattens an Avro schema into `path → field-id` using the fixture's path notation. */
function fieldIds(avroSchema: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  const unwrap = (t: unknown): unknown => (Array.isArray(t) ? t.find((x) => x !== 'null') : t);
  const visitType = (t: unknown, path: string): void => {
    const type = unwrap(t) as Record<string, unknown> | string;
    if (typeof type !== 'object' || type === null) return;
    if (type.type === 'record') {
      for (const f of type.fields as Array<Record<string, unknown>>) {
        const p = path ? `${path}.${String(f.name)}` : String(f.name);
        if (typeof f['field-id'] === 'number') out[p] = f['field-id'];
        visitType(f.type, p);
      }
    } else if (type.type === 'array') {
      const items = unwrap(type.items) as Record<string, unknown> | string;
      if (type.logicalType === 'map' && typeof items === 'object') {
        for (const f of items.fields as Array<Record<string, unknown>>) out[`${path}{}.${String(f.name)}`] = f['field-id'] as number;
      } else {
        if (typeof type['element-id'] === 'number') out[`${path}[]`] = type['element-id'];
        visitType(items, `${path}[]`);
      }
    }
  };
  visitType(avroSchema, '');
  return out;
}

const entries: ManifestEntry[] = [
  {
    status: EntryStatus.ADDED,
    snapshot_id: 9_007_199_254_740_993n, // 2^53 + 1: must not round
    sequence_number: null,
    file_sequence_number: null,
    data_file: {
      content: 0,
      file_path: 's3://bucket/wh/cold/trades/data/exchange_timestamp_day=2026-11-22/symbol_bucket=3/00000-0-x-00001.parquet',
      file_format: 'PARQUET',
      spec_id: 0,
      partition: { exchange_timestamp_day: 20779, symbol_bucket: 3 },
      record_count: 1234,
      file_size_in_bytes: 98765,
      column_sizes: { 1: 100, 2: 200, 3: 300 },
      value_counts: { 1: 1234, 2: 1234, 3: 1234 },
      null_value_counts: { 1: 0, 2: 0, 3: 17 },
      nan_value_counts: {},
      lower_bounds: { 1: toBinary('timestamptz', 1_795_000_000_000_000n), 2: toBinary('string', 'BTC') },
      upper_bounds: { 1: toBinary('timestamptz', 1_795_086_399_999_999n), 2: toBinary('string', 'SOL') },
      split_offsets: [4, 65536],
      sort_order_id: 1,
    },
  },
  {
    status: EntryStatus.EXISTING,
    snapshot_id: 42n,
    sequence_number: 7,
    file_sequence_number: 7,
    data_file: {
      content: 0,
      file_path: 's3://bucket/wh/cold/trades/data/exchange_timestamp_day=null/symbol_bucket=0/f.parquet',
      file_format: 'PARQUET',
      spec_id: 0,
      partition: { exchange_timestamp_day: null, symbol_bucket: 0 },
      record_count: 1,
      file_size_in_bytes: 10,
    },
  },
];

it('a manifest round-trips through our Avro reader with every field intact', () => {
  const bytes = encodeManifest(entries, spec, schema);
  const back = decodeManifest(bytes, 'mem://m0.avro', spec, schema);
  assert.deepEqual(back, entries);
});

it('a manifest carries the spec field ids and the required file metadata', () => {
  const { schema: avroSchema, metadata } = decodeAvroContainer(encodeManifest(entries, spec, schema), 'mem://m0.avro');
  assert.deepEqual(fieldIds(avroSchema), fixture.manifest_entry);
  for (const key of fixture.manifest_metadata_keys) assert.ok(key in metadata, `metadata key ${key}`);
  assert.equal(metadata['format-version'], '2');
  assert.equal(metadata.content, 'data');
  assert.equal(metadata['schema-id'], '3');
  assert.equal(metadata['partition-spec-id'], '0');
  assert.deepEqual(JSON.parse(metadata['partition-spec']!), spec.fields);
  assert.deepEqual(JSON.parse(metadata.schema!), schema);
});

it('a manifest list round-trips and carries ids 500-519', () => {
  const manifests: ManifestFile[] = [
    {
      manifest_path: 's3://bucket/wh/cold/trades/metadata/abc-m0.avro',
      manifest_length: 4321,
      partition_spec_id: 0,
      content: 0,
      sequence_number: 2,
      min_sequence_number: 2,
      added_snapshot_id: 9_223_372_036_854_775_807n, // Long.MAX_VALUE
      added_files_count: 3,
      existing_files_count: 0,
      deleted_files_count: 0,
      added_rows_count: 5000,
      existing_rows_count: 0,
      deleted_rows_count: 0,
      partitions: [
        { contains_null: false, lower_bound: toBinary('date', 20777), upper_bound: toBinary('date', 20779) },
        { contains_null: true, contains_nan: false },
      ],
    },
    {
      manifest_path: 's3://bucket/wh/cold/trades/metadata/def-m0.avro',
      manifest_length: 1,
      partition_spec_id: 0,
      content: 0,
      sequence_number: 1,
      min_sequence_number: 1,
      added_snapshot_id: 1n,
      added_files_count: 1,
      existing_files_count: 0,
      deleted_files_count: 0,
      added_rows_count: 1,
      existing_rows_count: 0,
      deleted_rows_count: 0,
    },
  ];
  const bytes = encodeManifestList(manifests, { snapshotId: 9_223_372_036_854_775_807n, parentSnapshotId: 1n, sequenceNumber: 2 });
  assert.deepEqual(decodeManifestList(bytes, 'mem://snap.avro'), manifests);
  const { schema: avroSchema, metadata } = decodeAvroContainer(bytes, 'mem://snap.avro');
  assert.deepEqual(fieldIds(avroSchema), fixture.manifest_list);
  assert.equal(metadata['snapshot-id'], '9223372036854775807');
  assert.equal(metadata['parent-snapshot-id'], '1');
});

it('corrupt Avro fails with an error naming the file', () => {
  const bytes = encodeManifestList([], { snapshotId: 1n, sequenceNumber: 1 });
  assert.throws(() => decodeManifestList(new TextEncoder().encode('{"not":"avro"}'), 's3://b/x.avro'), /iceberg avro file s3:\/\/b\/x\.avro cannot be read: not an Avro container/);
  assert.throws(() => decodeManifestList(bytes.subarray(0, bytes.length - 5), 's3://b/y.avro'), /s3:\/\/b\/y\.avro/);
});
