// Shared machinery for actions that add a snapshot: ids, file names, manifest
// and manifest-list writing, and the metadata update. Actions (append today;
// rewrite/expire later) decide which manifests go into the new snapshot.

import { randomBytes, randomUUID } from 'node:crypto';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import { EntryStatus, encodeManifest, partitionType, type DataFile } from '../spec/manifest';
import { encodeManifestList, type FieldSummary, type ManifestFile } from '../spec/manifest-list';
import type { PartitionSpec } from '../spec/partition-spec';
import type { Schema } from '../spec/schema';
import type { Snapshot } from '../spec/snapshot';
import { tableProperty, type TableMetadata } from '../spec/table-metadata';
import { compareValues, toBinary, type IcebergValue } from '../spec/values';

/** Random positive 63-bit id not used by any snapshot of the table (as Iceberg Java generates them). */
export function newSnapshotId(m: TableMetadata): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
    if (id !== 0n && !m.snapshots.some((s) => s['snapshot-id'] === id)) return id;
  }
}

export function metadataDir(m: TableMetadata): string {
  const custom = m.properties['write.metadata.path'];
  return typeof custom === 'string' && custom !== '' ? custom : joinUri(m.location, 'metadata');
}

/** Version number of a metadata file (`00012-<uuid>.metadata.json` → 12, Hadoop `v12.metadata.json` → 12). */
export function metadataVersion(uri: string): number | undefined {
  const name = uri.slice(uri.lastIndexOf('/') + 1);
  const m = /^v?(\d+)[-.]/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Per-field partition summaries (contains_null, bounds) for a manifest's files. */
export function partitionSummaries(files: DataFile[], spec: PartitionSpec, schema: Schema): FieldSummary[] {
  return partitionType(spec, schema).map(({ field, type }) => {
    let containsNull = false;
    let containsNan = false;
    let lo: IcebergValue | undefined;
    let hi: IcebergValue | undefined;
    for (const f of files) {
      const v = f.partition[field.name] ?? null;
      if (v === null) { containsNull = true; continue; }
      if (typeof v === 'number' && Number.isNaN(v)) { containsNan = true; continue; }
      if (lo === undefined || compareValues(v, lo) < 0) lo = v;
      if (hi === undefined || compareValues(v, hi) > 0) hi = v;
    }
    const s: FieldSummary = { contains_null: containsNull };
    if (type === 'float' || type === 'double') s.contains_nan = containsNan;
    if (lo !== undefined && hi !== undefined) {
      s.lower_bound = toBinary(type, lo);
      s.upper_bound = toBinary(type, hi);
    }
    return s;
  });
}

/** Writes one manifest of ADDED entries and returns its manifest-list entry (sequence numbers are filled in by the caller). */
export async function writeAddedManifest(
  io: FileIO,
  m: TableMetadata,
  files: DataFile[],
  spec: PartitionSpec,
  schema: Schema,
  snapshotId: bigint,
  uri: string,
): Promise<Omit<ManifestFile, 'sequence_number' | 'min_sequence_number'>> {
  // Sequence numbers stay null in the entries: readers inherit them from the
  // manifest list, so the same manifest stays valid if the commit is retried.
  const bytes = encodeManifest(
    files.map((data_file) => ({ status: EntryStatus.ADDED, snapshot_id: snapshotId, sequence_number: null, file_sequence_number: null, data_file })),
    spec,
    schema,
  );
  await io.write(uri, bytes);
  return {
    manifest_path: uri,
    manifest_length: bytes.byteLength,
    partition_spec_id: spec['spec-id'],
    content: 0,
    added_snapshot_id: snapshotId,
    added_files_count: files.length,
    existing_files_count: 0,
    deleted_files_count: 0,
    added_rows_count: files.reduce((a, f) => a + f.record_count, 0),
    existing_rows_count: 0,
    deleted_rows_count: 0,
    partitions: partitionSummaries(files, spec, schema),
  };
}

export async function writeManifestList(io: FileIO, m: TableMetadata, manifests: ManifestFile[], snapshotId: bigint, parent: Snapshot | undefined, sequenceNumber: number): Promise<string> {
  const uri = joinUri(metadataDir(m), `snap-${snapshotId}-1-${randomUUID()}.avro`);
  const bytes = encodeManifestList(manifests, { snapshotId, sequenceNumber, ...(parent ? { parentSnapshotId: parent['snapshot-id'] } : {}) });
  await io.write(uri, bytes);
  return uri;
}

/**
 * The table metadata after committing `snapshot` on main: refs, snapshot log,
 * metadata log (pointing at the file this update replaces) and counters.
 */
export function withSnapshot(base: TableMetadata, baseUri: string | null, snapshot: Snapshot): TableMetadata {
  const m = structuredClone(base);
  m.snapshots.push(snapshot);
  m['current-snapshot-id'] = snapshot['snapshot-id'];
  m.refs = { ...m.refs, main: { ...(m.refs.main ?? {}), 'snapshot-id': snapshot['snapshot-id'], type: 'branch' } };
  m['snapshot-log'].push({ 'snapshot-id': snapshot['snapshot-id'], 'timestamp-ms': snapshot['timestamp-ms'] });
  if (baseUri) {
    m['metadata-log'].push({ 'metadata-file': baseUri, 'timestamp-ms': base['last-updated-ms'] });
    const keep = Math.max(1, Number(tableProperty(base, 'write.metadata.previous-versions-max')) || 100);
    if (m['metadata-log'].length > keep) m['metadata-log'] = m['metadata-log'].slice(-keep);
  }
  m['last-sequence-number'] = snapshot['sequence-number'];
  m['last-updated-ms'] = snapshot['timestamp-ms'];
  return m;
}

/** `<dir>/<version>-<uuid>.metadata.json`, version = base version + 1 (00000 for a table's first file). */
export function nextMetadataUri(m: TableMetadata, baseUri: string | null): string {
  const baseVersion = baseUri ? metadataVersion(baseUri) ?? m['metadata-log'].length : -1;
  return joinUri(metadataDir(m), `${String(baseVersion + 1).padStart(5, '0')}-${randomUUID()}.metadata.json`);
}
