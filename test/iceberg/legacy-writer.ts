// A table as coldtier wrote it before manifest filtering and merging (issue
// 13): every append carried every manifest forward, and a compaction rewrote
// each touched manifest into a copy holding only DELETED entries, which every
// later commit carried for ever. The tests build such tables to show that the
// next commit and rewrite-manifests heal them.

import { randomUUID } from 'node:crypto';
import { currentSchema, currentSnapshot, listDataFiles, readManifestEntries, readManifestList, type ManifestEntry } from '../../src/iceberg';
import { EntryStatus } from '../../src/iceberg/spec/manifest';
import type { ManifestFile } from '../../src/iceberg/spec/manifest-list';
import { snapshotSummary } from '../../src/iceberg/spec/snapshot';
import { metadataDir, newSnapshotId, withSnapshot, writeManifest, writeManifestList, writeNextMetadata } from '../../src/iceberg/transaction/snapshot-producer';
import type { ExecuteRewriteOptions } from '../../src/iceberg';
import { executeRewrite, planRewrite } from '../../src/iceberg';
import { io, type TradesTable } from './maintenance-helpers';

/** The old compaction: binpack as today, but every touched manifest rewritten in place (removed files as DELETED entries) and nothing dropped. */
export async function legacyCompact(t: TradesTable, opts: ExecuteRewriteOptions = {}): Promise<number> {
  const m = t.head.metadata;
  const plan = await planRewrite(io, m, { targetFileSizeBytes: 4 * 1024 * 1024, minInputFiles: 5 });
  const { added } = await executeRewrite(io, m, plan, opts);
  const removed = new Set(plan.groups.flatMap((g) => g.files.map((f) => f.file_path)));
  const parent = currentSnapshot(m)!;
  const snapshotId = newSnapshotId(m);
  const seq = m['last-sequence-number'] + 1;
  const schema = currentSchema(m);
  const spec = m['partition-specs'][0]!;
  const uri = () => `${metadataDir(m)}/${randomUUID()}-m0.avro`;
  const out: ManifestFile[] = [];
  const addedEntries = added.map((data_file): ManifestEntry => ({ status: EntryStatus.ADDED, snapshot_id: snapshotId, sequence_number: null, file_sequence_number: null, data_file }));
  out.push(await writeManifest(io, addedEntries, spec, schema, snapshotId, uri(), seq));
  for (const mf of await readManifestList(io, parent)) {
    const entries = await readManifestEntries(io, m, mf);
    if (!entries.some((e) => e.status !== EntryStatus.DELETED && removed.has(e.data_file.file_path))) {
      out.push(mf);
      continue;
    }
    const rewritten = entries.filter((e) => e.status !== EntryStatus.DELETED)
      .map((e): ManifestEntry => (removed.has(e.data_file.file_path) ? { ...e, status: EntryStatus.DELETED, snapshot_id: snapshotId } : { ...e, status: EntryStatus.EXISTING }));
    out.push(await writeManifest(io, rewritten, spec, schema, snapshotId, uri(), seq));
  }
  const removedFiles = (await listDataFiles(io, m)).filter((f) => removed.has(f.file_path));
  const sum = (fs: typeof added, k: 'record_count' | 'file_size_in_bytes') => fs.reduce((a, f) => a + f[k], 0);
  const list = await writeManifestList(io, m, out, snapshotId, parent, seq);
  const metadata = withSnapshot(m, t.head.metadataUri, {
    'snapshot-id': snapshotId, 'parent-snapshot-id': parent['snapshot-id'], 'sequence-number': seq, 'timestamp-ms': Math.max(Date.now(), m['last-updated-ms']), 'manifest-list': list, 'schema-id': schema['schema-id'],
    summary: snapshotSummary('replace', parent, {
      dataFiles: added.length, records: sum(added, 'record_count'), filesSize: sum(added, 'file_size_in_bytes'),
      deletedDataFiles: removedFiles.length, deletedRecords: sum(removedFiles, 'record_count'), removedFilesSize: sum(removedFiles, 'file_size_in_bytes'), changedPartitions: plan.groups.length,
    }),
  });
  const metadataUri = await writeNextMetadata(io, metadata, t.head.metadataUri, []);
  t.head = { metadata, metadataUri };
  return out.filter((x) => x.added_files_count + x.existing_files_count === 0).length;
}
