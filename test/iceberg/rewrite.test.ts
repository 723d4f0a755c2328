// Compaction (rewrite_data_files binpack): 30 small appends become one file per
// day with the same rows, committed as a `replace` snapshot; a replace that lost
// a race is refused; an append committed during the compaction survives it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  currentSnapshot, executeRewrite, listDataFiles, planRewrite, prepareReplace, readDataFile, readManifestEntries, readManifestList, ValidationError,
} from '../../src/iceberg';
import { currentSchema } from '../../src/iceberg/spec/table-metadata';
import { openChdb, type Chdb } from './helpers';
import { appendBatch, createTradesTable, io, totals, type TradesTable } from './maintenance-helpers';

let ch: Chdb;
before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

const ice = (t: TradesTable) => `icebergLocal('${t.path}')`;

/** 30 appends of 120 rows = 3600 rows over 3 days, each append a file per day it touches. */
async function thirtyAppends(prefix: string): Promise<TradesTable> {
  const t = await createTradesTable(ch, prefix);
  for (let i = 0; i < 30; i++) await appendBatch(ch, t, i * 120, 120);
  return t;
}

const metadataFiles = async (t: TradesTable) => (await readdir(join(t.path, 'metadata'))).sort();

describe('rewrite (compaction)', () => {
  it('compacts 30 small appends into one file per day with rows unchanged, as a replace snapshot', async () => {
    const t = await thirtyAppends('compact');
    const before = await listDataFiles(io, t.head.metadata);
    assert.ok(before.length >= 30, `many small files, got ${before.length}`);
    const source = await totals(ch, t.source);
    assert.equal(source.n, '3600');
    assert.deepEqual(await totals(ch, ice(t)), source);

    const plan = await planRewrite(io, t.head.metadata, { targetFileSizeBytes: 4 * 1024 * 1024, minInputFiles: 5 });
    assert.equal(plan.startingSnapshotId, currentSnapshot(t.head.metadata)!['snapshot-id']);
    assert.equal(plan.groups.length, 3, 'one group per day partition');
    assert.equal(plan.inputFiles, before.length);
    assert.equal(plan.inputRows, 3600);
    assert.equal(plan.expectedOutputFiles, 3);
    // A stricter threshold leaves everything alone (dry run: nothing written).
    assert.equal((await planRewrite(io, t.head.metadata, { targetFileSizeBytes: 4 * 1024 * 1024, minInputFiles: 1000 })).groups.length, 0);

    const result = await executeRewrite(io, t.head.metadata, plan);
    assert.equal(result.added.length, 3);
    assert.equal(result.removed.length, before.length);
    const prepared = await prepareReplace(io, t.head, { ...result, startingSnapshotId: plan.startingSnapshotId }, { summary: { 'coldtier.maintenance-id': 'compact-1' } });
    const parent = currentSnapshot(t.head.metadata)!;
    t.head = { metadata: prepared.metadata, metadataUri: prepared.metadataUri };

    // Another reader (ClickHouse) sees exactly the same rows.
    assert.deepEqual(await totals(ch, ice(t)), source);
    const after = await listDataFiles(io, t.head.metadata);
    assert.equal(after.length, 3);
    assert.deepEqual(new Set(after.map((f) => f.file_path)), new Set(result.added.map((f) => f.file_path)));

    const snap = currentSnapshot(t.head.metadata)!;
    assert.equal(snap.summary.operation, 'replace');
    assert.equal(snap['parent-snapshot-id'], parent['snapshot-id']);
    assert.equal(snap.summary['added-data-files'], '3');
    assert.equal(snap.summary['deleted-data-files'], String(before.length));
    assert.equal(snap.summary['added-records'], '3600');
    assert.equal(snap.summary['deleted-records'], '3600');
    assert.equal(snap.summary['total-records'], '3600');
    assert.equal(snap.summary['total-data-files'], '3');
    assert.equal(snap.summary['changed-partition-count'], '3');
    assert.equal(snap.summary['coldtier.maintenance-id'], 'compact-1');
    const sizeOf = (fs: typeof after) => fs.reduce((a, f) => a + f.file_size_in_bytes, 0);
    assert.equal(snap.summary['added-files-size'], String(sizeOf(result.added)));
    assert.equal(snap.summary['removed-files-size'], String(sizeOf(before)));
    assert.equal(snap.summary['total-files-size'], String(sizeOf(after)));

    // New files carry the starting snapshot's data sequence number; removed ones are DELETED entries by this snapshot.
    const entries = (await Promise.all((await readManifestList(io, snap)).map((m) => readManifestEntries(io, t.head.metadata, m)))).flat();
    const addedEntries = entries.filter((e) => e.status === 1);
    assert.equal(addedEntries.length, 3);
    for (const e of addedEntries) {
      assert.equal(e.sequence_number, parent['sequence-number']);
      assert.equal(e.file_sequence_number, snap['sequence-number']);
      // Sorted by the table's order, which files record only with coldtier.record-file-sort-order (recordedSortOrder).
      assert.equal(e.data_file.sort_order_id, 0);
    }
    assert.equal(entries.filter((e) => e.status === 2 && e.snapshot_id === snap['snapshot-id']).length, before.length);

    // Rows in each new file follow the table's sort order (symbol, ts).
    const schema = currentSchema(t.head.metadata);
    for (const f of result.added) {
      const rows = await readDataFile(io, f.file_path, schema.fields.filter((x) => x.name === 'symbol' || x.name === 'id'));
      const sym = rows.getChild('symbol')!.toArray() as string[];
      for (let i = 1; i < sym.length; i++) assert.ok(sym[i - 1]! <= sym[i]!, `sorted by symbol in ${f.file_path}`);
    }

    // Time travel to the last append still reads the 3600 rows through the old files.
    const old = await ch.rows<{ n: string }>(`SELECT toString(count()) AS n FROM ${ice(t)} SETTINGS iceberg_snapshot_id = ${parent['snapshot-id']}`);
    assert.deepEqual(old, [{ n: '3600' }]);

    // PyIceberg, a strict reader, agrees.
    const python = join(process.cwd(), '.tools', 'venv', 'bin', 'python');
    if (existsSync(python)) {
      const script = `import json,sys
from pyiceberg.table import StaticTable
t = StaticTable.from_metadata(sys.argv[1])
a = t.scan().to_arrow()
print(json.dumps({"rows": a.num_rows, "ids": sum(a.column("id").to_pylist()), "op": t.current_snapshot().summary.operation.value, "files": len(t.inspect.files())}))`;
      const { stdout } = await promisify(execFile)(python, ['-c', script, t.head.metadataUri]);
      assert.deepEqual(JSON.parse(stdout), { rows: 3600, ids: (3599 * 3600) / 2, op: 'replace', files: 3 });
    }
  });

  it('refuses a replace whose input files another commit already removed, and leaves no files behind', async () => {
    const t = await thirtyAppends('race');
    const opts = { targetFileSizeBytes: 4 * 1024 * 1024, minInputFiles: 5 };
    const planA = await planRewrite(io, t.head.metadata, opts);
    const planB = await planRewrite(io, t.head.metadata, opts);
    const a = await executeRewrite(io, t.head.metadata, planA);
    const b = await executeRewrite(io, t.head.metadata, planB);
    const won = await prepareReplace(io, t.head, { ...a, startingSnapshotId: planA.startingSnapshotId });
    t.head = { metadata: won.metadata, metadataUri: won.metadataUri };

    const files = await metadataFiles(t);
    await assert.rejects(prepareReplace(io, t.head, { ...b, startingSnapshotId: planB.startingSnapshotId }), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /no longer live .*re-plan the rewrite/);
      assert.equal(err.files.length, planB.inputFiles);
      return true;
    });
    assert.deepEqual(await metadataFiles(t), files, 'the refused replace wrote nothing');
    // Row-count mismatch is refused too (a rewrite must never change rows).
    const fresh = await planRewrite(io, t.head.metadata, opts);
    assert.equal(fresh.groups.length, 0, 'nothing left to compact');
    const live = await listDataFiles(io, t.head.metadata);
    await assert.rejects(prepareReplace(io, t.head, { added: [], removed: live.slice(0, 1), startingSnapshotId: null }), /must not change the rows/);
    assert.deepEqual(await totals(ch, ice(t)), await totals(ch, t.source));
  });

  it('keeps an append committed between the plan and the replace', async () => {
    const t = await thirtyAppends('concurrent');
    const plan = await planRewrite(io, t.head.metadata, { targetFileSizeBytes: 4 * 1024 * 1024 });
    const result = await executeRewrite(io, t.head.metadata, plan);
    // An offload commits while the compaction runs (the compaction's compare-and-swap would lose; it re-applies on the new head).
    const offload = await appendBatch(ch, t, 3600, 500);
    const prepared = await prepareReplace(io, t.head, { ...result, startingSnapshotId: plan.startingSnapshotId });
    t.head = { metadata: prepared.metadata, metadataUri: prepared.metadataUri };

    const live = new Set((await listDataFiles(io, t.head.metadata)).map((f) => f.file_path));
    const appended = (await listDataFiles(io, offload.metadata, offload.snapshotId)).filter((f) => !plan.groups.some((g) => g.files.some((x) => x.file_path === f.file_path)));
    assert.ok(appended.length > 0);
    for (const f of appended) assert.ok(live.has(f.file_path), `appended file ${f.file_path} survives`);
    const snap = currentSnapshot(t.head.metadata)!;
    assert.equal(snap['parent-snapshot-id'], offload.snapshotId);
    assert.equal(snap.summary['total-records'], '4100');
    const all = await totals(ch, t.source);
    assert.equal(all.n, '4100');
    assert.deepEqual(await totals(ch, ice(t)), all);
  });
});
