// Fast append: one new manifest with the new files, every manifest of the
// parent carried forward unchanged, one new snapshot. Only files are written
// here; the caller makes it visible with the catalog compare-and-swap.

import { randomUUID } from 'node:crypto';
import { IcebergArgumentError } from '../errors';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import type { DataFile } from '../spec/manifest';
import { decodeManifestList, type ManifestFile } from '../spec/manifest-list';
import { serializeTableMetadata } from '../spec/metadata-json';
import { maxFieldId, sameSchemaFields, type Schema } from '../spec/schema';
import { appendSummary, type Snapshot } from '../spec/snapshot';
import { currentSchema, currentSnapshot, type TableMetadata } from '../spec/table-metadata';
import { metadataDir, newSnapshotId, nextMetadataUri, withSnapshot, writeAddedManifest, writeManifestList } from './snapshot-producer';

export interface PreparedCommit {
  metadata: TableMetadata;
  metadataUri: string;
  snapshotId: bigint;
  /** Manifest(s), manifest list and metadata JSON, in write order: delete them if the compare-and-swap loses. */
  writtenFiles: string[];
}

export interface PrepareAppendOptions {
  /** Extra snapshot summary keys (e.g. an idempotency token). Cannot override computed keys. */
  summary?: Record<string, string>;
  /** The schema the files were written with, if it evolved: added to the table and made current. */
  schema?: Schema;
}

/** Adds `schema` as the current schema unless the table already has an identical one (then that one becomes current). */
function withSchema(m: TableMetadata, schema: Schema): TableMetadata {
  const existing = m.schemas.find((s) => sameSchemaFields(s, schema));
  if (existing) return existing['schema-id'] === m['current-schema-id'] ? m : { ...m, 'current-schema-id': existing['schema-id'] };
  const id = Math.max(...m.schemas.map((s) => s['schema-id'])) + 1;
  return {
    ...m,
    schemas: [...m.schemas, { ...schema, 'schema-id': id }],
    'current-schema-id': id,
    'last-column-id': Math.max(m['last-column-id'], maxFieldId(schema.fields)),
  };
}

export async function prepareAppend(
  io: FileIO,
  base: { metadata: TableMetadata; metadataUri: string | null },
  files: DataFile[],
  opts: PrepareAppendOptions = {},
): Promise<PreparedCommit> {
  if (files.length === 0) throw new IcebergArgumentError(`append to ${base.metadata.location} with no data files; skip the commit instead`);
  const m0 = opts.schema ? withSchema(base.metadata, opts.schema) : base.metadata;
  const schema = currentSchema(m0);
  const parent = currentSnapshot(m0);
  const snapshotId = newSnapshotId(m0);
  const sequenceNumber = m0['last-sequence-number'] + 1;
  const written: string[] = [];
  const commitId = randomUUID();

  try {
    // Manifests first, then the list that names them, then the metadata that
    // names the list: a reader that can see a file can resolve all it points to.
    const bySpec = new Map<number, DataFile[]>();
    for (const f of files) bySpec.set(f.spec_id, [...(bySpec.get(f.spec_id) ?? []), f]);
    const added: ManifestFile[] = [];
    let n = 0;
    for (const [specId, specFiles] of bySpec) {
      const spec = m0['partition-specs'].find((s) => s['spec-id'] === specId);
      if (!spec) throw new IcebergArgumentError(`data files use partition spec ${specId}, which table ${m0.location} does not have`);
      const uri = joinUri(metadataDir(m0), `${commitId}-m${n++}.avro`);
      written.push(uri);
      const mf = await writeAddedManifest(io, m0, specFiles, spec, schema, snapshotId, uri);
      added.push({ ...mf, sequence_number: sequenceNumber, min_sequence_number: sequenceNumber });
    }
    const carried = parent ? decodeManifestList(await io.read(parent['manifest-list']), parent['manifest-list']) : [];
    const manifestList = await writeManifestList(io, m0, [...added, ...carried], snapshotId, parent, sequenceNumber);
    written.push(manifestList);

    const snapshot: Snapshot = {
      'snapshot-id': snapshotId,
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': sequenceNumber,
      'timestamp-ms': Math.max(Date.now(), m0['last-updated-ms']),
      'manifest-list': manifestList,
      summary: appendSummary(
        parent,
        {
          dataFiles: files.length,
          records: files.reduce((a, f) => a + f.record_count, 0),
          filesSize: files.reduce((a, f) => a + f.file_size_in_bytes, 0),
          changedPartitions: new Set(files.map((f) => `${f.spec_id}/${JSON.stringify(f.partition, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`)).size,
        },
        opts.summary,
      ),
      'schema-id': schema['schema-id'],
    };
    const metadata = withSnapshot(m0, base.metadataUri, snapshot);
    const metadataUri = nextMetadataUri(metadata, base.metadataUri);
    written.push(metadataUri);
    await io.write(metadataUri, new TextEncoder().encode(serializeTableMetadata(metadata)));
    return { metadata, metadataUri, snapshotId, writtenFiles: written };
  } catch (err) {
    await cleanupFiles(io, written);
    throw err;
  }
}

async function cleanupFiles(io: FileIO, uris: string[]): Promise<void> {
  // Newest first: the metadata JSON goes before what it references, so a reader
  // listing the directory never picks up a metadata file whose list is gone.
  for (const uri of [...uris].reverse()) await io.delete(uri);
}

/** Deletes what prepareAppend wrote (after a lost compare-and-swap). Data files are the caller's. */
export async function cleanupPrepared(io: FileIO, p: PreparedCommit): Promise<void> {
  await cleanupFiles(io, p.writtenFiles);
}
