// Orphan files (remove_orphan_files older_than): only unreferenced files older
// than the cutoff are reported; nothing the metadata references ever is.

import assert from 'node:assert/strict';
import { utimes, writeFile } from 'node:fs/promises';
import { after, before, it } from 'node:test';
import { findOrphans, planExpire, prepareAppend, prepareMetadataUpdate, writeDataFiles, writeVersionHint } from '../../src/iceberg';
import { referencedFiles } from '../../src/iceberg/transaction/orphan-files';
import { openChdb, type Chdb } from './helpers';
import { appendBatch, createTradesTable, insertSql, io } from './maintenance-helpers';

let ch: Chdb;
before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

const HOUR = 3_600_000;
const local = (uri: string) => uri.slice('file://'.length);
const age = async (uri: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  await utimes(local(uri), t, t);
};

it('finds files no metadata references, only when older than the cutoff', async () => {
  const t = await createTradesTable(ch, 'orphans');
  for (let i = 0; i < 4; i++) await appendBatch(ch, t, i * 400, 400);
  await writeVersionHint(io, t.head.metadata, t.head.metadataUri);

  // A commit that lost its compare-and-swap and crashed before cleaning up: data file, manifest, list, metadata.
  await ch.command(insertSql(t.source, 5000, 10));
  const rows = await ch.arrow(`SELECT ${t.select.join(', ')} FROM ${t.source} WHERE id >= 5000`);
  const lostFiles = await writeDataFiles(io, t.head.metadata, rows);
  const lost = await prepareAppend(io, t.head, lostFiles, {});
  // Expired snapshots leave their files behind if the cleanup after the commit never ran.
  const expiry = await planExpire(io, t.head.metadata, { olderThanMs: Date.now() + 1, retainLast: 2 });
  const committed = await prepareMetadataUpdate(io, t.head, expiry.metadata);
  t.head = { metadata: committed.metadata, metadataUri: committed.metadataUri };
  // And a stray file someone put under data/.
  const planted = `${t.location}/data/ts_day=2026-11-20/planted.parquet`;
  await writeFile(local(planted), 'not parquet');

  const all = await io.list(t.location);
  const refs = await referencedFiles(io, t.head.metadata, t.head.metadataUri);
  const unreferenced = all.map((f) => f.uri).filter((u) => !refs.has(u));
  const expected = new Set([planted, ...lostFiles.map((f) => f.file_path), ...lost.writtenFiles, ...expiry.filesToDelete]);
  assert.deepEqual(new Set(unreferenced), expected, 'unreferenced = exactly the planted, lost and expired files');

  // Everything is fresh: a 24 h cutoff reports nothing (an in-flight write's files look exactly like this).
  const cutoff = Date.now() - 24 * HOUR;
  assert.deepEqual(await findOrphans(io, t.head.metadata, t.head.metadataUri, { olderThanMs: cutoff }), []);

  // The planted file alone is 3 days old: only it is reported.
  await age(planted, 72 * HOUR);
  const one = await findOrphans(io, t.head.metadata, t.head.metadataUri, { olderThanMs: cutoff });
  assert.deepEqual(one.map((f) => f.uri), [planted]);
  assert.equal(one[0]!.size, 'not parquet'.length);

  // Everything is 3 days old: exactly the unreferenced files, never a referenced one.
  for (const f of all) await age(f.uri, 72 * HOUR);
  const orphans = await findOrphans(io, t.head.metadata, t.head.metadataUri, { olderThanMs: cutoff });
  assert.deepEqual(new Set(orphans.map((f) => f.uri)), expected);
  for (const f of orphans) assert.ok(!refs.has(f.uri));
  assert.ok(refs.has(`${t.location}/metadata/version-hint.text`));
  for (const e of t.head.metadata['metadata-log']) assert.ok(!orphans.some((o) => o.uri === e['metadata-file']), 'metadata-log files are kept');

  // Deleting them leaves a table every reader still reads.
  for (const f of orphans) await io.delete(f.uri);
  const [n] = await ch.rows<{ n: string }>(`SELECT toString(count()) AS n FROM icebergLocal('${t.path}')`);
  assert.deepEqual(n, { n: '1600' });

  await assert.rejects(findOrphans(io, t.head.metadata, t.head.metadataUri, { olderThanMs: Date.now() + HOUR }), /in the future/);
});
