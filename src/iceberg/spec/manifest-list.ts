// Manifest lists (v2): one per snapshot, listing every manifest it includes.

import { decodeAvroContainer, encodeAvroContainer } from './avro/container';
import { MANIFEST_LIST_SCHEMA_V2 } from './avro/schemas';

export interface FieldSummary {
  contains_null: boolean;
  contains_nan?: boolean;
  lower_bound?: Uint8Array;
  upper_bound?: Uint8Array;
}

export interface ManifestFile {
  manifest_path: string;
  manifest_length: number;
  partition_spec_id: number;
  content: 0 | 1;
  sequence_number: number;
  min_sequence_number: number;
  added_snapshot_id: bigint;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: number;
  existing_rows_count: number;
  deleted_rows_count: number;
  partitions?: FieldSummary[];
}

export function encodeManifestList(manifests: ManifestFile[], meta: { snapshotId: bigint; parentSnapshotId?: bigint; sequenceNumber: number }): Uint8Array {
  const records = manifests.map((m) => ({
    ...m,
    partitions:
      m.partitions?.map((p) => ({
        contains_null: p.contains_null,
        contains_nan: p.contains_nan ?? null,
        lower_bound: p.lower_bound ? Buffer.from(p.lower_bound) : null,
        upper_bound: p.upper_bound ? Buffer.from(p.upper_bound) : null,
      })) ?? null,
    key_metadata: null,
  }));
  // Iceberg Java writes these keys; some readers use them to sanity-check the list against the snapshot.
  return encodeAvroContainer(MANIFEST_LIST_SCHEMA_V2, records, {
    'snapshot-id': meta.snapshotId.toString(),
    'parent-snapshot-id': meta.parentSnapshotId?.toString() ?? 'null',
    'sequence-number': String(meta.sequenceNumber),
    'format-version': '2',
  });
}

export function decodeManifestList(bytes: Uint8Array, fileUri: string): ManifestFile[] {
  const { records } = decodeAvroContainer(bytes, fileUri);
  return records.map((r) => {
    const n = (k: string, dflt = 0): number => (r[k] === null || r[k] === undefined ? dflt : Number(r[k]));
    const out: ManifestFile = {
      manifest_path: String(r.manifest_path),
      manifest_length: n('manifest_length'),
      partition_spec_id: n('partition_spec_id'),
      content: n('content') === 1 ? 1 : 0,
      sequence_number: n('sequence_number'),
      min_sequence_number: n('min_sequence_number'),
      added_snapshot_id: BigInt(r.added_snapshot_id as bigint),
      // v1 lists wrote added_data_files_count etc.
      added_files_count: n('added_files_count', n('added_data_files_count')),
      existing_files_count: n('existing_files_count', n('existing_data_files_count')),
      deleted_files_count: n('deleted_files_count', n('deleted_data_files_count')),
      added_rows_count: n('added_rows_count'),
      existing_rows_count: n('existing_rows_count'),
      deleted_rows_count: n('deleted_rows_count'),
    };
    if (Array.isArray(r.partitions)) {
      out.partitions = (r.partitions as Array<Record<string, unknown>>).map((p) => {
        const s: FieldSummary = { contains_null: Boolean(p.contains_null) };
        if (p.contains_nan !== null && p.contains_nan !== undefined) s.contains_nan = Boolean(p.contains_nan);
        if (p.lower_bound) s.lower_bound = new Uint8Array(p.lower_bound as Buffer);
        if (p.upper_bound) s.upper_bound = new Uint8Array(p.upper_bound as Buffer);
        return s;
      });
    }
    return out;
  });
}
