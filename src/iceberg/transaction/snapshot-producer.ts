// Shared machinery for actions that add a snapshot: ids, file names, manifest
// and manifest-list writing, and the metadata update. Actions (append,
// replace) decide which manifests go into the new snapshot; expire reuses the
// metadata-file half only.

import { randomBytes, randomUUID } from 'node:crypto';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import type { DataFile } from '../spec/manifest';
import { encodeManifestList, type ManifestFile } from '../spec/manifest-list';
import { serializeTableMetadata } from '../spec/metadata-json';
import type { Snapshot } from '../spec/snapshot';
import { currentSchema, tableProperty, type TableMetadata } from '../spec/table-metadata';
import { filterAndMergeManifests } from './manifest-merge';
import { metadataDir } from './manifest-writer';

export { metadataDir, partitionSummaries, writeAddedManifest, writeManifest } from './manifest-writer';

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
 * Filters and merges `manifests` (this commit's new manifests first, then the
 * carried ones; see manifest-merge.ts), writes the manifest list, then the
 * metadata that makes `snapshot` (its manifest-list filled in here) current.
 * Manifests are written before the list: a reader that can see a file can
 * resolve all it points to. `written` collects what was written for cleanup.
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
  const merged = await filterAndMergeManifests({ io, metadata: m0, schema: currentSchema(m0), snapshotId: snapshot['snapshot-id'], sequenceNumber: snapshot['sequence-number'], written }, manifests);
  // Own manifests merged away are referenced by nothing: delete them now rather than leave orphans for the sweep.
  for (const uri of merged.unused) {
    await io.delete(uri);
    const i = written.indexOf(uri);
    if (i >= 0) written.splice(i, 1);
  }
  const manifestList = await writeManifestList(io, m0, merged.manifests, snapshot['snapshot-id'], parent, snapshot['sequence-number']);
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
