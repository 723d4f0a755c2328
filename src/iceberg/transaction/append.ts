// Fast append: one new manifest with the new files, every manifest of the
// parent carried forward unchanged, one new snapshot. Only files are written
// here; the caller makes it visible with the catalog compare-and-swap.

import { randomUUID } from 'node:crypto';
import { IcebergArgumentError } from '../errors';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import type { DataFile } from '../spec/manifest';
import { decodeManifestList, type ManifestFile } from '../spec/manifest-list';
import { withNameMapping } from '../spec/name-mapping';
import { maxFieldId, sameSchemaFields, type Schema } from '../spec/schema';
import { appendSummary } from '../spec/snapshot';
import { currentSchema, currentSnapshot, type TableMetadata } from '../spec/table-metadata';
import { cleanupFiles, commitSnapshot, countPartitions, metadataDir, newSnapshotId, writeAddedManifest, type PreparedCommit } from './snapshot-producer';

export type { PreparedCommit } from './snapshot-producer';

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
  const evolved = opts.schema ? withSchema(base.metadata, opts.schema) : base.metadata;
  // The name mapping follows the schema: new fields are added, existing names kept (also sets it on older tables).
  const schema = currentSchema(evolved);
  const properties = withNameMapping(evolved.properties, schema);
  const m0 = properties === evolved.properties ? evolved : { ...evolved, properties };
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
    return await commitSnapshot(io, base, m0, [...added, ...carried], {
      'snapshot-id': snapshotId,
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': sequenceNumber,
      'timestamp-ms': Math.max(Date.now(), m0['last-updated-ms']),
      summary: appendSummary(
        parent,
        {
          dataFiles: files.length,
          records: files.reduce((a, f) => a + f.record_count, 0),
          filesSize: files.reduce((a, f) => a + f.file_size_in_bytes, 0),
          changedPartitions: countPartitions(files),
        },
        opts.summary,
      ),
      'schema-id': schema['schema-id'],
    }, written);
  } catch (err) {
    await cleanupFiles(io, written);
    throw err;
  }
}

/** Deletes what prepareAppend wrote (after a lost compare-and-swap). Data files are the caller's. */
export async function cleanupPrepared(io: FileIO, p: PreparedCommit): Promise<void> {
  await cleanupFiles(io, p.writtenFiles);
}
