// Orphan files, as Iceberg's remove_orphan_files(older_than): files under the
// table's location that no snapshot, no metadata file in the log and no
// version hint references: leftovers of failed or lost commits and of
// interrupted cleanups. Only files older than the cutoff are reported, because
// a younger file may belong to a write that has not committed yet
// (apache/iceberg#4194); the caller picks a safe cutoff (Spark refuses < 24 h).

import { IcebergArgumentError } from '../errors';
import type { FileInfo, FileIO } from '../io/file-io';
import { joinUri, parseUri } from '../io/uri';
import type { ManifestFile } from '../spec/manifest-list';
import type { TableMetadata } from '../spec/table-metadata';
import { mapLimit } from '../table/parallel';
import { readManifestEntries, readManifestList } from '../table/scan';
import { metadataDir } from './snapshot-producer';

export interface FindOrphansOptions {
  /** Only files last modified before this time (epoch ms) are reported. */
  olderThanMs: number;
  /** The clock the cutoff is checked against: a cutoff after it is refused (it would catch in-flight writes). @default Date.now() */
  now?: number;
}

/** One spelling per object: `s3a://` → `s3://`, `file:/x` and `/x` → `file:///x`, so listed and referenced names compare equal. */
export function normalizeUri(uri: string): string {
  const p = parseUri(uri);
  return p.scheme === 's3' ? `s3://${p.bucket}/${p.key}` : `file://${p.path}`;
}

const isUnder = (uri: string, dir: string) => normalizeUri(uri).startsWith(`${normalizeUri(dir).replace(/\/+$/, '')}/`);

/** Every file the metadata references: metadata files, lists, manifests, data files of every snapshot (live or deleted entries). */
export async function referencedFiles(io: FileIO, meta: TableMetadata, metadataUri: string): Promise<Set<string>> {
  const refs = new Set<string>([metadataUri, joinUri(metadataDir(meta), 'version-hint.text')]);
  for (const e of meta['metadata-log']) refs.add(e['metadata-file']);
  for (const key of ['statistics', 'partition-statistics']) {
    const list = meta[key];
    if (Array.isArray(list)) for (const e of list as Array<{ 'statistics-path'?: string }>) if (e['statistics-path']) refs.add(e['statistics-path']);
  }
  const manifests = new Map<string, ManifestFile>();
  for (const s of meta.snapshots) refs.add(s['manifest-list']);
  // A missing list means the table is damaged: stop rather than call everything it referenced an orphan.
  for (const list of await mapLimit(meta.snapshots, (s) => readManifestList(io, s))) for (const mf of list) manifests.set(mf.manifest_path, mf);
  for (const mf of manifests.values()) {
    refs.add(mf.manifest_path);
    // Delete files live in delete manifests this reader does not decode: they would all look orphaned.
    if (mf.content !== 0) throw new IcebergArgumentError(`table ${meta.location} has delete files; orphan detection needs a reader for delete manifests`);
  }
  // Each distinct manifest once, a few at a time; DELETED entries count too (their files belong to retained history).
  for (const entries of await mapLimit([...manifests.values()], (mf) => readManifestEntries(io, meta, mf))) for (const e of entries) refs.add(e.data_file.file_path);
  return new Set([...refs].map(normalizeUri));
}

/**
 * Lists the table location (and custom data/metadata paths outside it) and
 * returns the files no metadata references and last modified before the
 * cutoff. Pass the CURRENT metadata and its URI. Deleting them is the caller's.
 */
export async function findOrphans(io: FileIO, meta: TableMetadata, metadataUri: string, opts: FindOrphansOptions): Promise<FileInfo[]> {
  const now = opts.now ?? Date.now();
  if (opts.olderThanMs > now) throw new IcebergArgumentError(`orphan cutoff ${new Date(opts.olderThanMs).toISOString()} is in the future; files of in-flight writes would be reported`);
  const refs = await referencedFiles(io, meta, metadataUri);
  const roots = [meta.location];
  const dataPath = meta.properties['write.data.path'];
  for (const extra of [metadataDir(meta), typeof dataPath === 'string' && dataPath !== '' ? dataPath : undefined]) {
    if (extra && !isUnder(extra, meta.location) && !roots.includes(extra)) roots.push(extra);
  }
  const orphans: FileInfo[] = [];
  for (const root of roots) {
    for (const f of await io.list(root)) {
      if (f.lastModified.getTime() >= opts.olderThanMs) continue;
      if (!refs.has(normalizeUri(f.uri))) orphans.push(f);
    }
  }
  return orphans.sort((a, b) => a.uri.localeCompare(b.uri));
}
