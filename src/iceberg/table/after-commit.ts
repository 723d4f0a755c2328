// What follows a successful catalog swap: the version hint, and (when the
// table asks for it) deleting the metadata files that fell off the metadata
// log, as Iceberg Java's TableOperations do after a commit. Both are
// best-effort: the catalog row already names the new metadata, and a file
// left behind is the orphan sweep's.

import type { FileIO } from '../io/file-io';
import { tableProperty, type TableMetadata } from '../spec/table-metadata';
import { writeVersionHint } from './metadata-io';

/**
 * Metadata files `base` listed in its metadata log that `next` no longer does (trimmed by
 * write.metadata.previous-versions-max), when write.metadata.delete-after-commit.enabled is true; otherwise none.
 */
export function removedMetadataFiles(base: TableMetadata, next: TableMetadata): string[] {
  if (tableProperty(next, 'write.metadata.delete-after-commit.enabled').trim().toLowerCase() !== 'true') return [];
  const kept = new Set(next['metadata-log'].map((e) => e['metadata-file']));
  return base['metadata-log'].map((e) => e['metadata-file']).filter((f) => !kept.has(f));
}

/**
 * Runs after `committed` became current on top of `base`: writes the version hint, then deletes the metadata files
 * that fell off the log (see removedMetadataFiles). Never throws: a failure here cannot undo the commit.
 */
export async function afterCommit(io: FileIO, base: TableMetadata | null, committed: { metadata: TableMetadata; metadataUri: string }): Promise<void> {
  await writeVersionHint(io, committed.metadata, committed.metadataUri).catch(() => undefined);
  if (!base) return;
  for (const uri of removedMetadataFiles(base, committed.metadata)) await io.delete(uri).catch(() => undefined);
}
