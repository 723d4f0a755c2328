// Shared machinery for actions that add a snapshot: ids, file names, manifest
// and manifest-list writing, and the metadata update. Actions (append,
// replace) decide which manifests go into the new snapshot; expire reuses the
// metadata-file half only.

import { randomBytes, randomUUID } from 'node:crypto';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import { EntryStatus, encodeManifest, partitionType, type DataFile, type ManifestEntry } from '../spec/manifest';
import { encodeManifestList, type FieldSummary, type ManifestFile } from '../spec/manifest-list';
import type { PartitionSpec } from '../spec/partition-spec';
import type { Schema } from '../spec/schema';
import { serializeTableMetadata } from '../spec/metadata-json';
import type { Snapshot } from '../spec/snapshot';
import { tableProperty, type TableMetadata } from '../spec/table-metadata';
import { compareValues, toBinary, type IcebergValue } from '../spec/values';

/** What a prepare* action wrote; the caller makes it current with the catalog compare-and-swap. */
export interface PreparedCommit {
  metadata: TableMetadata;
  metadataUri: string;
  /** The snapshot the commit adds; for a metadata-only update (expiry) the unchanged current snapshot, -1n if none. */
  snapshotId: bigint;
  /** Manifest(s), manifest list and metadata JSON, in write order: delete them if the compare-and-swap loses. */
  writtenFiles: string[];
}

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

/** Stable key of a file's (spec, partition tuple), for grouping and changed-partition-count. */
export function partitionKey(f: DataFile): string {
  return `${f.spec_id}/${JSON.stringify(f.partition, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}`;
}

/** Distinct (spec, partition) tuples among `files`, for changed-partition-count. */
export function countPartitions(files: DataFile[]): number {
  return new Set(files.map(partitionKey)).size;
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
  const entries = files.map((data_file) => ({ status: EntryStatus.ADDED, snapshot_id: snapshotId, sequence_number: null, file_sequence_number: null, data_file }));
  const { sequence_number: _s, min_sequence_number: _m, ...mf } = await writeManifest(io, entries, spec, schema, snapshotId, uri, 0);
  return mf;
}

/**
 * Writes a manifest with entries of any status and returns its manifest-list
 * entry for a snapshot with `sequenceNumber`. Counts follow the statuses;
 * min_sequence_number is the lowest data sequence number of the live entries
 * (an ADDED entry without one inherits `sequenceNumber`), as Java's ManifestWriter computes it.
 */
export async function writeManifest(
  io: FileIO,
  entries: ManifestEntry[],
  spec: PartitionSpec,
  schema: Schema,
  snapshotId: bigint,
  uri: string,
  sequenceNumber: number,
): Promise<ManifestFile> {
  const bytes = encodeManifest(entries, spec, schema);
  await io.write(uri, bytes);
  const count = (st: EntryStatus) => entries.filter((e) => e.status === st);
  const rows = (es: ManifestEntry[]) => es.reduce((a, e) => a + e.data_file.record_count, 0);
  const [added, existing, deleted] = [count(EntryStatus.ADDED), count(EntryStatus.EXISTING), count(EntryStatus.DELETED)];
  let minSeq = sequenceNumber;
  for (const e of [...added, ...existing]) minSeq = Math.min(minSeq, e.sequence_number ?? sequenceNumber);
  return {
    manifest_path: uri,
    manifest_length: bytes.byteLength,
    partition_spec_id: spec['spec-id'],
    content: 0,
    sequence_number: sequenceNumber,
    min_sequence_number: minSeq,
    added_snapshot_id: snapshotId,
    added_files_count: added.length,
    existing_files_count: existing.length,
    deleted_files_count: deleted.length,
    added_rows_count: rows(added),
    existing_rows_count: rows(existing),
    deleted_rows_count: rows(deleted),
    partitions: partitionSummaries(entries.map((e) => e.data_file), spec, schema),
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
  m['last-sequence-number'] = snapshot['sequence-number'];
  return withMetadataLog(base, baseUri, m, snapshot['timestamp-ms']);
}

/**
 * `next` (derived from `base`) with `baseUri` appended to the metadata log,
 * trimmed to write.metadata.previous-versions-max, and last-updated-ms set.
 */
export function withMetadataLog(base: TableMetadata, baseUri: string | null, next: TableMetadata, updatedMs: number): TableMetadata {
  const m = next === base ? structuredClone(base) : next;
  if (baseUri) {
    m['metadata-log'] = [...base['metadata-log'], { 'metadata-file': baseUri, 'timestamp-ms': base['last-updated-ms'] }];
    const keep = Math.max(1, Number(tableProperty(base, 'write.metadata.previous-versions-max')) || 100);
    if (m['metadata-log'].length > keep) m['metadata-log'] = m['metadata-log'].slice(-keep);
  }
  m['last-updated-ms'] = updatedMs;
  return m;
}

/**
 * Writes `metadata` as the file after `baseUri` and returns its URI (recorded in `written` first, for cleanup).
 * A writer that died between writing its metadata file and the catalog swap leaves `<version>-<uuid>.metadata.json`
 * behind, and readers that take the highest version (ClickHouse, DuckDB) could pick it over ours if we reused its
 * number: the version skips past any file already there.
 */
export async function writeNextMetadata(io: FileIO, metadata: TableMetadata, baseUri: string | null, written: string[]): Promise<string> {
  let version = nextMetadataVersion(metadata, baseUri);
  while ((await io.listNames(metadataDir(metadata), `${versionName(version)}-`)).length) version++;
  const uri = joinUri(metadataDir(metadata), `${versionName(version)}-${randomUUID()}.metadata.json`);
  written.push(uri);
  await io.write(uri, new TextEncoder().encode(serializeTableMetadata(metadata)));
  return uri;
}

/** A snapshot before its manifest list is written. */
export interface SnapshotDraft {
  'snapshot-id': bigint;
  'parent-snapshot-id'?: bigint;
  'sequence-number': number;
  'timestamp-ms': number;
  summary: Snapshot['summary'];
  'schema-id'?: number;
}

/**
 * Writes the manifest list for `manifests`, then the metadata that makes
 * `snapshot` (its manifest-list filled in here) current. Manifests are
 * written by the caller before: a reader that can see a file can resolve all
 * it points to. `written` collects what was written for cleanup.
 */
export async function commitSnapshot(
  io: FileIO,
  base: { metadata: TableMetadata; metadataUri: string | null },
  m0: TableMetadata,
  manifests: ManifestFile[],
  snapshot: SnapshotDraft,
  written: string[],
): Promise<PreparedCommit> {
  const parent = snapshot['parent-snapshot-id'] === undefined ? undefined : m0.snapshots.find((s) => s['snapshot-id'] === snapshot['parent-snapshot-id']);
  const manifestList = await writeManifestList(io, m0, manifests, snapshot['snapshot-id'], parent, snapshot['sequence-number']);
  written.push(manifestList);
  const metadata = withSnapshot(m0, base.metadataUri, { ...snapshot, 'manifest-list': manifestList });
  const metadataUri = await writeNextMetadata(io, metadata, base.metadataUri, written);
  return { metadata, metadataUri, snapshotId: snapshot['snapshot-id'], writtenFiles: written };
}

/** Deletes written files newest first: the metadata JSON goes before what it references, so a reader listing the directory never picks up a metadata file whose list is gone. */
export async function cleanupFiles(io: FileIO, uris: string[]): Promise<void> {
  for (const uri of [...uris].reverse()) await io.delete(uri);
}

/** Version of the metadata file after `baseUri`: its version + 1 (0 for a table's first file). */
function nextMetadataVersion(m: TableMetadata, baseUri: string | null): number {
  return (baseUri ? metadataVersion(baseUri) ?? m['metadata-log'].length : -1) + 1;
}

const versionName = (v: number) => String(v).padStart(5, '0');
