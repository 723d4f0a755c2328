// Table metadata: creation, JSON serde with exact 64-bit ids, parse errors,
// snapshot ancestry.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import {
  createFileIO, findSnapshot, IcebergArgumentError, MetadataParseError, newTableMetadata, parseTableMetadata, readTableMetadata,
  prepareMetadataUpdate, serializeTableMetadata, type Schema, type Snapshot, type TableMetadata,
} from '../../src/iceberg';
import { tempDir } from './helpers';

const schema: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'exchange_timestamp', required: true, type: 'timestamptz' },
    { id: 2, name: 'symbol', required: true, type: 'string' },
    { id: 3, name: 'tags', required: false, type: { type: 'list', 'element-id': 4, element: 'string', 'element-required': true } },
  ],
};

function snap(id: bigint, parent: bigint | undefined, seq: number, extra: Record<string, string> = {}): Snapshot {
  return {
    'snapshot-id': id,
    ...(parent === undefined ? {} : { 'parent-snapshot-id': parent }),
    'sequence-number': seq,
    'timestamp-ms': 1_700_000_000_000 + seq,
    'manifest-list': `s3://b/t/metadata/snap-${id}-1-x.avro`,
    summary: { operation: 'append', ...extra },
    'schema-id': 0,
  };
}

function withSnapshots(m: TableMetadata, snaps: Snapshot[], current: bigint): TableMetadata {
  return { ...m, snapshots: snaps, 'current-snapshot-id': current, refs: { main: { 'snapshot-id': current, type: 'branch' } }, 'last-sequence-number': snaps.length };
}

describe('newTableMetadata', () => {
  it('builds v2 metadata with a day partition and a sort order', () => {
    const m = newTableMetadata({
      location: 's3://bucket/wh/cold/trades/',
      schema,
      partitionBy: [{ sourceColumn: 'exchange_timestamp', transform: 'day' }, { sourceColumn: 'symbol', transform: 'bucket[16]' }],
      sortBy: [{ sourceColumn: 'exchange_timestamp' }, { sourceColumn: 'symbol', direction: 'desc' }],
      properties: { owner: 'coldtier' },
    });
    assert.equal(m['format-version'], 2);
    assert.equal(m.location, 's3://bucket/wh/cold/trades');
    assert.match(m['table-uuid'], /^[0-9a-f-]{36}$/);
    assert.equal(m['last-column-id'], 4);
    assert.deepEqual(m['partition-specs'], [{
      'spec-id': 0,
      fields: [
        { name: 'exchange_timestamp_day', transform: 'day', 'source-id': 1, 'field-id': 1000 },
        { name: 'symbol_bucket', transform: 'bucket[16]', 'source-id': 2, 'field-id': 1001 },
      ],
    }]);
    assert.equal(m['last-partition-id'], 1001);
    assert.equal(m['default-sort-order-id'], 1);
    assert.deepEqual(m['sort-orders'][1], {
      'order-id': 1,
      fields: [
        { transform: 'identity', 'source-id': 1, direction: 'asc', 'null-order': 'nulls-first' },
        { transform: 'identity', 'source-id': 2, direction: 'desc', 'null-order': 'nulls-last' },
      ],
    });
    assert.equal(m.properties.owner, 'coldtier');
    assert.equal(m['current-snapshot-id'], undefined);
    assert.match(serializeTableMetadata(m), /"current-snapshot-id":-1/);
  });
  it('refuses partitions on unknown columns or with impossible transforms', () => {
    assert.throws(() => newTableMetadata({ location: 'file:///t', schema, partitionBy: [{ sourceColumn: 'nope', transform: 'day' }] }), IcebergArgumentError);
    assert.throws(() => newTableMetadata({ location: 'file:///t', schema, partitionBy: [{ sourceColumn: 'symbol', transform: 'day' }] }), /day cannot be applied to symbol/);
    assert.throws(() => newTableMetadata({ location: 'file:///t', schema, partitionBy: [{ sourceColumn: 'tags', transform: 'identity' }] }), IcebergArgumentError);
  });
});

describe('metadata JSON', () => {
  const big = 9_223_372_036_854_775_807n; // Long.MAX_VALUE
  const justAbove = 9_007_199_254_740_993n; // 2^53 + 1, rounds to 2^53 as a double
  const base = newTableMetadata({ location: 's3://b/t', schema });
  const m = withSnapshots(base, [snap(justAbove, undefined, 1), snap(big, justAbove, 2)], big);

  it('keeps snapshot ids above 2^53 exact through serialize and parse', () => {
    const json = serializeTableMetadata(m);
    assert.match(json, /"current-snapshot-id":9223372036854775807/);
    assert.match(json, /"parent-snapshot-id":9007199254740993/);
    const back = parseTableMetadata(json, 's3://b/t/metadata/00002-x.metadata.json');
    assert.equal(back['current-snapshot-id'], big);
    assert.equal(back.snapshots[1]?.['parent-snapshot-id'], justAbove);
    assert.equal(back.refs.main?.['snapshot-id'], big);
    assert.deepEqual(back, m);
    assert.equal(serializeTableMetadata(back), json);
  });

  it('keeps fields written by other engines', () => {
    const json = serializeTableMetadata(m).replace(/}$/, ',"statistics":[{"snapshot-id":9223372036854775807,"statistics-path":"s3://b/s.puffin","file-size-in-bytes":1,"file-footer-size-in-bytes":1,"blob-metadata":[]}]}');
    const back = parseTableMetadata(json, 'x');
    assert.match(serializeTableMetadata(back), /"statistics":\[\{"snapshot-id":9223372036854775807,/);
  });

  it('names the file when it is not v2 table metadata', () => {
    const uri = 's3://b/t/metadata/00007-abc.metadata.json';
    assert.throws(() => parseTableMetadata('{"hello": 1}', uri), (e: unknown) => e instanceof MetadataParseError && e.fileUri === uri && e.message.includes(uri));
    assert.throws(() => parseTableMetadata('{"format-version": 2, "loc', uri), /not JSON/);
    assert.throws(() => parseTableMetadata('[1,2]', uri), /not a JSON object/);
    assert.throws(() => parseTableMetadata(serializeTableMetadata(m).replace('"format-version":2', '"format-version":1'), uri), /format-version 1 is not supported/);
    assert.throws(() => parseTableMetadata(serializeTableMetadata(m).replace('"last-column-id":4', '"last-column-id":"4"'), uri), /last-column-id/);
    assert.throws(() => parseTableMetadata(serializeTableMetadata(m).replace('"last-sequence-number":2', '"last-sequence-number":9007199254740993'), uri), /exceeds 2\^53/);
  });

  it('reads plain and gzip metadata files', async () => {
    const io = createFileIO({});
    const dir = tempDir('meta');
    const json = serializeTableMetadata(m);
    await io.write(`file://${dir}/00001-a.metadata.json`, new TextEncoder().encode(json));
    await io.write(`file://${dir}/00002-b.gz.metadata.json`, gzipSync(json));
    assert.deepEqual(await readTableMetadata(io, `file://${dir}/00001-a.metadata.json`), m);
    assert.deepEqual(await readTableMetadata(io, `file://${dir}/00002-b.gz.metadata.json`), m);
  });
});

describe('findSnapshot', () => {
  it('walks the current ancestry newest first and ignores other branches', () => {
    const base = newTableMetadata({ location: 's3://b/t', schema });
    const s1 = snap(11n, undefined, 1, { 'coldtier.offload-id': 'a' });
    const s2 = snap(22n, 11n, 2, { 'coldtier.offload-id': 'b' });
    const orphan = snap(33n, 11n, 3, { 'coldtier.offload-id': 'c' }); // not an ancestor of current
    const s4 = snap(44n, 22n, 4, { 'coldtier.offload-id': 'a' });
    const m = withSnapshots(base, [s1, s2, orphan, s4], 44n);
    assert.equal(findSnapshot(m, (s) => s.summary['coldtier.offload-id'] === 'a')?.['snapshot-id'], 44n);
    assert.equal(findSnapshot(m, (s) => s.summary['coldtier.offload-id'] === 'b')?.['snapshot-id'], 22n);
    assert.equal(findSnapshot(m, (s) => s.summary['coldtier.offload-id'] === 'c'), undefined);
    assert.equal(findSnapshot(base, () => true), undefined);
  });
});

describe('metadata file versions', () => {
  it('skips past a metadata file a dead writer left at the next version, so readers taking the highest version see the commit', async () => {
    const io = createFileIO({});
    const location = `file://${tempDir('versions')}/t`;
    const meta = newTableMetadata({ location, schema });
    const firstUri = `${location}/metadata/00000-${randomUUID()}.metadata.json`;
    await io.write(firstUri, new TextEncoder().encode(serializeTableMetadata(meta)));
    // A writer wrote 00001-… and died before its catalog swap.
    await io.write(`${location}/metadata/00001-${randomUUID()}.metadata.json`, new TextEncoder().encode(serializeTableMetadata(meta)));
    const next = await prepareMetadataUpdate(io, { metadata: meta, metadataUri: firstUri }, { ...meta, properties: { ...meta.properties, k: 'v' } });
    assert.match(next.metadataUri, /\/metadata\/00002-[0-9a-f-]{36}\.metadata\.json$/, 'version 1 is taken: the commit writes version 2');
    assert.equal((await io.listNames(`${location}/metadata`, '0000')).length, 3);
    assert.equal((await io.listNames(`${location}/metadata`, '00002-')).length, 1);
    assert.equal((await readTableMetadata(io, next.metadataUri)).properties.k, 'v');
  });
});
