// The maintenance primitives on S3 (MinIO): compaction, expiry with the file
// deletes that follow it, an orphan sweep and a scan, on a table in the shared
// test bucket. Object listings and names must line up with what the metadata
// references (s3:// URIs, URL-encoded partition paths).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import {
  currentSnapshot, executeRewrite, findOrphans, listDataFiles, planExpire, planRewrite, prepareMetadataUpdate, prepareReplace, scanColumns,
} from '../../src/iceberg';
import { s3Bucket } from '../helpers/stack';
import { openChdb, type Chdb } from './helpers';
import { appendBatch, createTradesTable, io } from './maintenance-helpers';

let ch: Chdb;
before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

it('compacts, expires and sweeps orphans of a table on S3', async () => {
  const t = await createTradesTable(ch, 's3maint', `s3://${s3Bucket()}/maint-${randomUUID()}`);
  for (let i = 0; i < 8; i++) await appendBatch(ch, t, i * 100, 100);

  const plan = await planRewrite(io, t.head.metadata, { targetFileSizeBytes: 4 * 1024 * 1024 });
  assert.equal(plan.inputFiles, 8);
  const result = await executeRewrite(io, t.head.metadata, plan);
  const replaced = await prepareReplace(io, t.head, { ...result, startingSnapshotId: plan.startingSnapshotId });
  t.head = { metadata: replaced.metadata, metadataUri: replaced.metadataUri };
  assert.equal((await listDataFiles(io, t.head.metadata)).length, 1);

  await new Promise((r) => setTimeout(r, 5));
  const expiry = await planExpire(io, t.head.metadata, { olderThanMs: Date.now(), retainLast: 1 });
  assert.equal(expiry.expireIds.length, 8);
  const committed = await prepareMetadataUpdate(io, t.head, expiry.metadata);
  t.head = { metadata: committed.metadata, metadataUri: committed.metadataUri };
  for (const f of expiry.filesToDelete) await io.delete(f);
  for (const f of result.removed) assert.equal(await io.exists(f.file_path), false);

  // A stray object is the only orphan once everything is older than the cutoff (every metadata file is
  // still in the metadata log, and expiry's files were deleted).
  const stray = `${t.location}/data/ts_day=2026-11-20/stray-${randomUUID()}.parquet`;
  await io.write(stray, new TextEncoder().encode('stray'));
  await new Promise((r) => setTimeout(r, 1100)); // S3 LastModified has 1 s resolution
  const orphans = await findOrphans(io, t.head.metadata, t.head.metadataUri, { olderThanMs: Date.now() });
  assert.deepEqual(orphans.map((o) => o.uri), [stray]);
  assert.deepEqual(await findOrphans(io, t.head.metadata, t.head.metadataUri, { olderThanMs: Date.now() - 3_600_000 }), []);

  let rows = 0;
  for await (const x of scanColumns(io, t.head.metadata, { columns: ['id', 'ts'] })) rows += x.numRows;
  assert.equal(rows, 800);
  assert.equal(currentSnapshot(t.head.metadata)!.summary['total-records'], '800');
});
