// Snapshot expiry (expire_snapshots older_than + retain_last): what is kept,
// what may be deleted, and that the table and time travel still read after
// the unreferenced files are gone.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  currentSnapshot, executeRewrite, listDataFiles, planExpire, planRewrite, prepareMetadataUpdate, prepareReplace, readManifestEntries, readManifestList,
  readTableMetadata, ValidationError, type TableMetadata,
} from '../../src/iceberg';
import { openChdb, type Chdb } from './helpers';
import { appendBatch, createTradesTable, io, totals, type TradesTable } from './maintenance-helpers';

let ch: Chdb;
before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

/** Every file a set of snapshots needs: lists, manifests, live data files. */
async function reachable(meta: TableMetadata, ids: bigint[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const s of meta.snapshots.filter((x) => ids.includes(x['snapshot-id']))) {
    out.add(s['manifest-list']);
    for (const mf of await readManifestList(io, s)) {
      out.add(mf.manifest_path);
      for (const e of await readManifestEntries(io, meta, mf)) if (e.status !== 2) out.add(e.data_file.file_path);
    }
  }
  return out;
}

/** 10 appends into one day, a compaction of them, then 2 more appends: 13 snapshots. */
async function history(prefix: string): Promise<TradesTable & { compacted: string[] }> {
  const t = await createTradesTable(ch, prefix);
  for (let i = 0; i < 10; i++) await appendBatch(ch, t, i * 120, 120);
  const plan = await planRewrite(io, t.head.metadata, { targetFileSizeBytes: 4 * 1024 * 1024 });
  assert.equal(plan.inputFiles, 10);
  const result = await executeRewrite(io, t.head.metadata, plan);
  const p = await prepareReplace(io, t.head, { ...result, startingSnapshotId: plan.startingSnapshotId });
  t.head = { metadata: p.metadata, metadataUri: p.metadataUri };
  await appendBatch(ch, t, 1200, 100);
  await appendBatch(ch, t, 1300, 100);
  return { ...t, compacted: result.removed.map((f) => f.file_path) };
}

describe('expire snapshots', () => {
  it('keeps exactly the newest retainLast snapshots and lists only files nothing retained references', async () => {
    const t = await history('expire');
    const meta = t.head.metadata;
    assert.equal(meta.snapshots.length, 13);
    await new Promise((r) => setTimeout(r, 5));

    const plan = await planExpire(io, meta, { olderThanMs: Date.now(), retainLast: 3 });
    const kept = meta.snapshots.slice(-3).map((s) => s['snapshot-id']);
    const expired = meta.snapshots.slice(0, 10);
    assert.deepEqual(plan.expireIds, expired.map((s) => s['snapshot-id']));
    assert.deepEqual(plan.metadata.snapshots.map((s) => s['snapshot-id']), kept);
    assert.deepEqual(plan.metadata['snapshot-log'].map((e) => e['snapshot-id']), kept);
    assert.deepEqual(plan.metadata.refs, meta.refs);
    assert.equal(currentSnapshot(plan.metadata)!['snapshot-id'], currentSnapshot(meta)!['snapshot-id']);

    // Exactly: the 10 compacted files, the 10 append manifests the compaction rewrote, and 10 manifest lists.
    const keptFiles = await reachable(meta, kept);
    const expiredFiles = await reachable(meta, expired.map((s) => s['snapshot-id']));
    const expected = new Set([...expiredFiles].filter((f) => !keptFiles.has(f)));
    assert.deepEqual(new Set(plan.filesToDelete), expected);
    for (const f of t.compacted) assert.ok(plan.filesToDelete.includes(f), `compacted input ${f} is deletable`);
    for (const s of expired) assert.ok(plan.filesToDelete.includes(s['manifest-list']));
    assert.equal(plan.filesToDelete.length, 30);
    for (const f of plan.filesToDelete) assert.ok(!keptFiles.has(f), `${f} is still referenced`);

    // Commit (the catalog swap is the caller's), then delete.
    const prepared = await prepareMetadataUpdate(io, t.head, plan.metadata);
    assert.match(prepared.metadataUri, /\/metadata\/00014-[0-9a-f-]{36}\.metadata\.json$/);
    assert.equal(prepared.snapshotId, currentSnapshot(meta)!['snapshot-id']);
    const committed = await readTableMetadata(io, prepared.metadataUri);
    assert.equal(committed.snapshots.length, 3);
    assert.equal(committed['metadata-log'].at(-1)?.['metadata-file'], t.head.metadataUri);
    for (const f of plan.filesToDelete) await io.delete(f);
    for (const f of keptFiles) assert.ok(await io.exists(f), `retained file ${f} exists`);

    // The table and time travel to every retained snapshot still read.
    assert.deepEqual(await totals(ch, `icebergLocal('${t.path}')`), await totals(ch, t.source));
    const compaction = kept[0]!;
    const [old] = await ch.rows<{ n: string }>(`SELECT toString(count()) AS n FROM icebergLocal('${t.path}') SETTINGS iceberg_snapshot_id = ${compaction}`);
    assert.deepEqual(old, { n: '1200' });
    assert.equal((await listDataFiles(io, committed, kept[1]!)).reduce((a, f) => a + f.record_count, 0), 1300);

    // Nothing is old enough any more: a second run expires nothing.
    const again = await planExpire(io, committed, { olderThanMs: Date.now(), retainLast: 3 });
    assert.deepEqual(again, { expireIds: [], metadata: committed, filesToDelete: [] });
  });

  it('never expires a tagged snapshot or what it references, nor anything younger than the cutoff', async () => {
    const t = await history('expiretag');
    const meta = structuredClone(t.head.metadata);
    const tagged = meta.snapshots[1]!;
    meta.refs.audit = { 'snapshot-id': tagged['snapshot-id'], type: 'tag' };
    await new Promise((r) => setTimeout(r, 5));

    const plan = await planExpire(io, meta, { olderThanMs: Date.now(), retainLast: 1 });
    assert.equal(plan.expireIds.length, 11);
    assert.ok(!plan.expireIds.includes(tagged['snapshot-id']));
    assert.deepEqual(plan.metadata.snapshots.map((s) => s['snapshot-id']), [tagged['snapshot-id'], currentSnapshot(meta)!['snapshot-id']]);
    const taggedFiles = await reachable(meta, [tagged['snapshot-id']]);
    for (const f of plan.filesToDelete) assert.ok(!taggedFiles.has(f), `${f} is referenced by the tag`);
    assert.ok(plan.filesToDelete.includes(t.compacted.find((f) => !taggedFiles.has(f))!), 'compacted files the tag does not need go');

    // A cutoff before every snapshot expires nothing, whatever retainLast says.
    assert.equal((await planExpire(io, meta, { olderThanMs: meta.snapshots[0]!['timestamp-ms'], retainLast: 1 })).expireIds.length, 0);
    await assert.rejects(planExpire(io, meta, { olderThanMs: Date.now(), retainLast: 0 }), /retainLast/);
  });

  it('refuses to commit an expiry planned on metadata that has moved on', async () => {
    const t = await history('expirestale');
    await new Promise((r) => setTimeout(r, 5));
    const plan = await planExpire(io, t.head.metadata, { olderThanMs: Date.now(), retainLast: 2 });
    await appendBatch(ch, t, 1400, 10); // an offload commits in between
    await assert.rejects(prepareMetadataUpdate(io, t.head, plan.metadata), ValidationError);
    // Re-planned on the fresh head it commits, keeping the new snapshot.
    const again = await planExpire(io, t.head.metadata, { olderThanMs: Date.now(), retainLast: 2 });
    const prepared = await prepareMetadataUpdate(io, t.head, again.metadata);
    assert.equal(prepared.metadata.snapshots.length, 2);
    assert.equal(currentSnapshot(prepared.metadata)!['snapshot-id'], currentSnapshot(t.head.metadata)!['snapshot-id']);
  });
});
