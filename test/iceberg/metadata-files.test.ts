// Bounded metadata files: with write.metadata.delete-after-commit.enabled, the metadata files that fall off the
// metadata log (write.metadata.previous-versions-max) are deleted after the commit, as Iceberg Java does; without it
// they stay (for the orphan sweep). The version hint names the current metadata file so that the readers that
// resolve a table directory through it (PyIceberg's StaticTable, DuckDB's iceberg_scan) open the current version.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { afterCommit } from '../../src/iceberg';
import { venvBinDir } from '../../src/devstack/tools';
import { openChdb, type Chdb } from './helpers';
import { appendBatch, createTradesTable, io, totals, type TradesTable } from './maintenance-helpers';

let ch: Chdb;
before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

const metadataJsons = async (t: TradesTable) => (await readdir(join(t.path, 'metadata'))).filter((f) => f.endsWith('.metadata.json')).sort();

async function sixCommits(t: TradesTable): Promise<void> {
  for (let i = 0; i < 6; i++) {
    const base = t.head.metadata;
    await appendBatch(ch, t, i * 50, 50);
    await afterCommit(io, base, t.head);
  }
}

it('deletes metadata files that fall off the log when write.metadata.delete-after-commit.enabled, keeps them otherwise', async () => {
  const t = await createTradesTable(ch, 'mdclean');
  t.head.metadata.properties['write.metadata.delete-after-commit.enabled'] = 'true';
  t.head.metadata.properties['write.metadata.previous-versions-max'] = '3';
  await sixCommits(t);
  const log = t.head.metadata['metadata-log'].map((e) => e['metadata-file'].slice(e['metadata-file'].lastIndexOf('/') + 1));
  assert.equal(log.length, 3);
  const current = t.head.metadataUri.slice(t.head.metadataUri.lastIndexOf('/') + 1);
  assert.deepEqual(await metadataJsons(t), [...log, current].sort(), 'the current file and the three in its log, nothing else');
  assert.deepEqual(await totals(ch, `icebergLocal('${t.path}')`), await totals(ch, t.source));

  const keep = await createTradesTable(ch, 'mdkeep');
  keep.head.metadata.properties['write.metadata.previous-versions-max'] = '3';
  await sixCommits(keep);
  assert.equal((await metadataJsons(keep)).length, 7, 'without the property every version stays (the orphan sweep takes them)');
});

it('writes a version hint that PyIceberg resolves to the current metadata file from the table directory', async () => {
  const t = await createTradesTable(ch, 'mdhint');
  await sixCommits(t);
  const hint = await readFile(join(t.path, 'metadata', 'version-hint.text'), 'utf8');
  assert.equal(`${hint}.metadata.json`, t.head.metadataUri.slice(t.head.metadataUri.lastIndexOf('/') + 1));
  const script = `import json,sys
from pyiceberg.table import StaticTable
t = StaticTable.from_metadata(sys.argv[1])
print(json.dumps({"rows": t.scan().to_arrow().num_rows, "snapshot": str(t.current_snapshot().snapshot_id)}))`;
  const { stdout } = await promisify(execFile)(join(venvBinDir(), 'python'), ['-c', script, t.location]);
  assert.deepEqual(JSON.parse(stdout), { rows: 300, snapshot: String(t.head.metadata['current-snapshot-id']) });
});
