// Manifest filtering and merging (issue 13): the manifest list stays bounded
// however many commits a table takes, its counts, sequence numbers and
// partition summaries stay exact, and readers (chDB, PyIceberg) see the same
// rows; a table written before (hundreds of delete-only manifests) is healed by
// its next commit and by rewrite-manifests.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  cleanupPrepared, currentSnapshot, executeRewrite, listDataFiles, planRewrite, prepareAppend, prepareReplace, prepareRewriteManifests,
  readManifestEntries, readManifestList, writeDataFiles, type ManifestFile, type TableMetadata,
} from '../../src/iceberg';
import { venvBinDir } from '../../src/devstack/tools';
import { partitionSummaries } from '../../src/iceberg/transaction/snapshot-producer';
import { currentSchema } from '../../src/iceberg/spec/table-metadata';
import { openChdb, type Chdb } from './helpers';
import { legacyCompact } from './legacy-writer';
import { appendBatch, createTradesTable, insertSql, io, totals, type TradesTable } from './maintenance-helpers';

const python = join(venvBinDir(), 'python');
let ch: Chdb;
before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

const ice = (t: TradesTable) => `icebergLocal('${t.path}')`;
const live = (mf: ManifestFile) => mf.added_files_count + mf.existing_files_count;
const manifestsOf = async (m: TableMetadata) => readManifestList(io, currentSnapshot(m)!);

/** Every manifest-list entry agrees with its manifest: counts per status, rows, min sequence number, partition summaries. */
async function assertListExact(m: TableMetadata): Promise<void> {
  const schema = currentSchema(m);
  for (const mf of await manifestsOf(m)) {
    const entries = await readManifestEntries(io, m, mf);
    const of = (st: number) => entries.filter((e) => e.status === st);
    const rows = (st: number) => of(st).reduce((a, e) => a + e.data_file.record_count, 0);
    assert.deepEqual(
      [mf.added_files_count, mf.existing_files_count, mf.deleted_files_count, mf.added_rows_count, mf.existing_rows_count, mf.deleted_rows_count],
      [of(1).length, of(0).length, of(2).length, rows(1), rows(0), rows(2)],
      `counts of ${mf.manifest_path}`,
    );
    const seqs = entries.filter((e) => e.status !== 2).map((e) => e.sequence_number!);
    assert.equal(mf.min_sequence_number, Math.min(mf.sequence_number, ...seqs), `min_sequence_number of ${mf.manifest_path}`);
    assert.deepEqual(mf.partitions, partitionSummaries(entries.map((e) => e.data_file), m['partition-specs'][0]!, schema), `partition summaries of ${mf.manifest_path}`);
  }
}

/** What PyIceberg reads from a metadata file: rows, the sum of ids, live files, the summary totals. */
async function pyiceberg(metadataUri: string): Promise<{ rows: number; ids: number; files: number; totalRecords: string; totalFiles: string }> {
  assert.ok(existsSync(python), `no PyIceberg python at ${python}: run bash scripts/ensure-tools.sh (npm test does)`);
  const script = `import json,sys
from pyiceberg.table import StaticTable
t = StaticTable.from_metadata(sys.argv[1])
a = t.scan().to_arrow()
s = t.current_snapshot().summary
print(json.dumps({"rows": a.num_rows, "ids": sum(a.column("id").to_pylist()), "files": len(t.inspect.files()), "totalRecords": s["total-records"], "totalFiles": s["total-data-files"]}))`;
  const { stdout } = await promisify(execFile)(python, ['-c', script, metadataUri], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as never;
}

/** Readers agree with the source: chDB's totals and hash, PyIceberg's rows, and the snapshot summary's totals. */
async function assertReadsSource(t: TradesTable): Promise<void> {
  const source = await totals(ch, t.source);
  assert.deepEqual(await totals(ch, ice(t)), source, 'chDB reads exactly the source rows');
  const [dups] = await ch.rows<{ d: string }>(`SELECT toString(count() - uniqExact(id)) AS d FROM ${ice(t)}`);
  assert.equal(dups!.d, '0', 'every row once');
  const n = Number(source.n);
  const files = await listDataFiles(io, t.head.metadata);
  assert.deepEqual(await pyiceberg(t.head.metadataUri), { rows: n, ids: (n * (n - 1)) / 2, files: files.length, totalRecords: String(n), totalFiles: String(files.length) });
}

const compact = async (t: TradesTable) => {
  const plan = await planRewrite(io, t.head.metadata, { targetFileSizeBytes: 4 * 1024 * 1024, minInputFiles: 5 });
  const result = await executeRewrite(io, t.head.metadata, plan);
  return { plan, result };
};

describe('manifest merging', () => {
  it('150 appends then a compaction: at most ~100 manifests, none delete-only, exact list, readers see the source rows', async () => {
    const t = await createTradesTable(ch, 'merge150');
    let most = 0;
    for (let i = 0; i < 150; i++) {
      await appendBatch(ch, t, i * 24, 24);
      most = Math.max(most, (await manifestsOf(t.head.metadata)).length);
    }
    assert.ok(most <= 100, `the list never holds more than min-count-to-merge (100) manifests, held ${most}`);
    const appended = await manifestsOf(t.head.metadata);
    assert.ok(appended.length < 100, `merged after 100 appends, ${appended.length} now`);
    await assertListExact(t.head.metadata);

    const { plan, result } = await compact(t);
    assert.equal(plan.inputRows, 3600);
    const p = await prepareReplace(io, t.head, { ...result, startingSnapshotId: plan.startingSnapshotId });
    t.head = { metadata: p.metadata, metadataUri: p.metadataUri };
    const list = await manifestsOf(t.head.metadata);
    assert.ok(list.length <= 100, `${list.length} manifests`);
    assert.deepEqual(list.filter((mf) => live(mf) === 0).map((mf) => mf.manifest_path), [], 'no delete-only manifest');
    await assertListExact(t.head.metadata);
    await assertReadsSource(t);
  });

  it('an append and a compaction racing (merges in between) still end with every row once', async () => {
    const t = await createTradesTable(ch, 'mergerace');
    // Merge every few commits, so the manifests holding the compaction's inputs are merged away before it commits.
    t.head.metadata.properties['commit.manifest.min-count-to-merge'] = '4';
    for (let i = 0; i < 20; i++) await appendBatch(ch, t, i * 60, 60);
    const { plan, result } = await compact(t);
    const inputsIn = new Set((await manifestsOf(t.head.metadata)).map((mf) => mf.manifest_path));
    for (let i = 20; i < 26; i++) await appendBatch(ch, t, i * 60, 60);
    const now = await manifestsOf(t.head.metadata);
    assert.ok(now.every((mf) => !inputsIn.has(mf.manifest_path) || live(mf) === 0), 'the manifests the compaction planned from were merged away');
    const p = await prepareReplace(io, t.head, { ...result, startingSnapshotId: plan.startingSnapshotId });
    t.head = { metadata: p.metadata, metadataUri: p.metadataUri };
    assert.equal(currentSnapshot(t.head.metadata)!.summary['total-records'], '1560');
    await assertListExact(t.head.metadata);
    await assertReadsSource(t);
  });

  it('an abandoned merging commit leaves no file behind; a committed one keeps every manifest it names', async () => {
    const t = await createTradesTable(ch, 'mergeclean');
    t.head.metadata.properties['commit.manifest.min-count-to-merge'] = '3';
    for (let i = 0; i < 2; i++) await appendBatch(ch, t, i * 60, 60);
    const metaDir = join(t.path, 'metadata');
    const beforeFiles = (await readdir(metaDir)).sort();
    await ch.command(insertSql(t.source, 120, 60));
    const rows = await ch.arrow(`SELECT ${t.select.join(', ')} FROM ${t.source} WHERE id >= 120 ORDER BY symbol, ts`);
    const files = await writeDataFiles(io, t.head.metadata, rows);
    const p = await prepareAppend(io, t.head, files);
    const list = await readManifestList(io, currentSnapshot(p.metadata)!);
    assert.equal(list.length, 1, 'three manifests merged into one');
    assert.ok(p.writtenFiles.includes(list[0]!.manifest_path), 'the merged manifest is the commit\'s to clean up');
    await cleanupPrepared(io, p); // the compare-and-swap lost
    assert.deepEqual((await readdir(metaDir)).sort(), beforeFiles, 'nothing of the abandoned commit is left');
    const again = await prepareAppend(io, t.head, files);
    t.head = { metadata: again.metadata, metadataUri: again.metadataUri };
    for (const mf of await manifestsOf(t.head.metadata)) assert.ok(await io.exists(mf.manifest_path), mf.manifest_path);
    await assertReadsSource(t);
  });
});

describe('a table written before merging (hundreds of delete-only manifests)', () => {
  it('is healed by rewrite-manifests and by its next commit, and reads the same before and after', async () => {
    const t = await createTradesTable(ch, 'legacy');
    t.head.metadata.properties['commit.manifest-merge.enabled'] = 'false';
    for (let i = 0; i < 150; i++) await appendBatch(ch, t, i * 24, 24);
    assert.equal((await manifestsOf(t.head.metadata)).length, 150, 'merging disabled: one manifest per append');
    const deleteOnly = await legacyCompact(t);
    assert.equal(deleteOnly, 150, 'the old compaction left one delete-only manifest per append');
    await assertReadsSource(t);
    const legacy = { ...t.head };
    delete t.head.metadata.properties['commit.manifest-merge.enabled'];

    // rewrite-manifests: one manifest of the live entries, ordered by partition.
    const r = await prepareRewriteManifests(io, t.head);
    assert.ok(r?.prepared);
    assert.equal(r.plan.manifestsBefore, 151);
    assert.equal(r.plan.deleteOnlyBefore, 150);
    t.head = { metadata: r.prepared.metadata, metadataUri: r.prepared.metadataUri };
    const rewritten = await manifestsOf(t.head.metadata);
    assert.equal(rewritten.length, 1);
    assert.equal(rewritten[0]!.deleted_files_count, 0);
    const snap = currentSnapshot(t.head.metadata)!;
    assert.equal(snap.summary.operation, 'replace');
    assert.equal(snap.summary['manifests-replaced'], '151');
    assert.equal(snap.summary['total-records'], '3600');
    await assertListExact(t.head.metadata);
    await assertReadsSource(t);
    assert.equal((await prepareRewriteManifests(io, t.head))?.prepared, null, 'a second rewrite has nothing to do');

    // The next commit on the old table (from the legacy head) drops every delete-only manifest.
    t.head = legacy;
    await appendBatch(ch, t, 3600, 24);
    const healed = await manifestsOf(t.head.metadata);
    assert.deepEqual(healed.filter((mf) => live(mf) === 0), [], 'no delete-only manifest after the next commit');
    assert.equal(healed.length, 2, 'the new manifest and the compaction\'s');
    await assertListExact(t.head.metadata);
    await assertReadsSource(t);
  });
});
