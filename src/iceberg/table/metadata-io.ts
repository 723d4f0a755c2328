import { gunzipSync } from 'node:zlib';
import { MetadataParseError } from '../errors';
import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import { parseTableMetadata } from '../spec/metadata-json';
import type { TableMetadata } from '../spec/table-metadata';
import { metadataDir } from '../transaction/snapshot-producer';

/** Reads and parses a metadata file (plain or gzip, as Java's `write.metadata.compression-codec=gzip` writes). */
export async function readTableMetadata(io: FileIO, metadataUri: string): Promise<TableMetadata> {
  let bytes = await io.read(metadataUri);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (cause) {
      throw new MetadataParseError(metadataUri, 'corrupt gzip', { cause });
    }
  }
  return parseTableMetadata(new TextDecoder().decode(bytes), metadataUri);
}

/**
 * Writes `metadata/version-hint.text` naming the current metadata file's stem
 * (`00003-<uuid>`), which DuckDB's iceberg_scan resolves to
 * `<stem>.metadata.json`. Advisory only: the catalog row is the truth.
 */
export async function writeVersionHint(io: FileIO, meta: TableMetadata, metadataUri: string): Promise<void> {
  const name = metadataUri.slice(metadataUri.lastIndexOf('/') + 1).replace(/\.metadata\.json$/, '');
  await io.write(joinUri(metadataDir(meta), 'version-hint.text'), new TextEncoder().encode(name));
}

/** `<warehouse>/<namespace>/<table>` (namespace levels separated by dots become directories). */
export function newTableLocation(warehouse: string, namespace: string, table: string): string {
  return joinUri(warehouse, ...namespace.split('.'), table);
}
