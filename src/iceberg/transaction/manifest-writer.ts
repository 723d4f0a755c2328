// Writing manifests: entries to Avro, and the manifest-list entry that
// describes them (counts, min sequence number, partition summaries).

import type { FileIO } from '../io/file-io';
import { joinUri } from '../io/uri';
import { EntryStatus, encodeManifest, partitionType, type DataFile, type ManifestEntry } from '../spec/manifest';
import type { FieldSummary, ManifestFile } from '../spec/manifest-list';
import type { PartitionSpec } from '../spec/partition-spec';
import type { Schema } from '../spec/schema';
import type { TableMetadata } from '../spec/table-metadata';
import { compareValues, toBinary, type IcebergValue } from '../spec/values';

export function metadataDir(m: TableMetadata): string {
  const custom = m.properties['write.metadata.path'];
  return typeof custom === 'string' && custom !== '' ? custom : joinUri(m.location, 'metadata');
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

