// Compaction through ClickHouse (src/activities/maintenance/clickhouse-compact.ts): ClickHouse reads a group's small
// files (written by both encoders), sorts them by the table's sort order and writes one Parquet file, which coldtier
// adopts. Every row comes out once, sorted, with the same metrics (counts, null and NaN counts, bounds) as the
// parquet-wasm rewrite of the same plan; chDB and PyIceberg read the same rows before and after the replace. A table
// ClickHouse cannot write exactly is refused with the reason, for the parquet-wasm path to take.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { rewriteWithClickHouse } from '../../src/activities/maintenance/clickhouse-compact';
import { writeWithClickHouse } from '../../src/activities/offload/clickhouse-write';
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/client';
import { compactionUnsupported } from '../../src/clickhouse/compact-export';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { venvBinDir } from '../../src/devstack/tools';
import {
  createFileIO, executeRewrite, listDataFiles, newTableLocation, newTableMetadata, planRewrite, prepareAppend, prepareReplace, readDataFile, writeDataFiles,
  type DataFile, type Schema, type TableMetadata,
} from '../../src/iceberg';
import { partitionKey } from '../../src/iceberg/transaction/snapshot-producer';
import { ALL_TYPES, FLAT_TYPES } from './conformance-types';
import { randomName, tempDir, warehouseDir } from './helpers';

const python = join(venvBinDir(), 'python');
const io = createFileIO({});
let ch: ClickHouse;
before(async () => {
  ch = await openClickHouse({ url: `chdb://${tempDir('chcompact')}`, username: 'default', password: '', database: 'default' });
});
after(async () => {
  await ch.close();
});

async function source(columns: Array<[string, string, string]>): Promise<{ name: string; schema: Schema; select: string[] }> {
  const name = randomName('chc');
  await ch.command(`CREATE TABLE ${name} (${columns.map(([n, t]) => `${n} ${t}`).join(', ')}) ENGINE = MergeTree ORDER BY k`);
  await ch.command(`INSERT INTO ${name} SELECT ${columns.map(([n, , e]) => `${e} AS ${n}`).join(', ')} FROM numbers(${ALL_TYPES.rows})`);
  const cols = await ch.json<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position`, { t: name });
  return { name, ...icebergSchemaFromClickHouse(name, cols) };
}

const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));

async function rowsOf(files: DataFile[], schema: Schema): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (const f of files) for (const r of await readDataFile(io, f.file_path, schema.fields)) out.push(r!.toJSON() as Record<string, unknown>);
  return out;
}

/** Every row as PyIceberg reads the table at this metadata file, sorted by k. */
async function pyiceberg(metadataUri: string): Promise<string> {
  const script = `import json, sys
from pyiceberg.table import StaticTable
t = StaticTable.from_metadata(sys.argv[1]).scan().to_arrow().sort_by("k")
print(json.dumps(t.to_pylist(), default=lambda v: v.hex() if isinstance(v, bytes) else str(v)))`;
  const { stdout } = await promisify(execFile)(python, ['-c', script, metadataUri.replace(/^file:\/\//, '')], { maxBuffer: 64 << 20 });
  return stdout;
}

it('compacts small files of both encoders through ClickHouse: every row once, sorted, exact metrics, and the same rows for chDB and PyIceberg', async () => {
  const src = await source(FLAT_TYPES);
  const location = newTableLocation(`file://${warehouseDir('chcompact')}`, 'cold', src.name);
  // day(t6) straddles the epoch, identity(lc) has '' and 'ÿ': six partitions. Sorted by ns descending (nulls last), then k.
  const meta0: TableMetadata = newTableMetadata({
    location, schema: src.schema, partitionBy: [{ sourceColumn: 't6', transform: 'day' }, { sourceColumn: 'lc', transform: 'identity' }],
    sortBy: [{ sourceColumn: 'ns', direction: 'desc' }, { sourceColumn: 'k' }],
  });
  assert.equal(compactionUnsupported(meta0, []), undefined);
  let head: { metadata: TableMetadata; metadataUri: string | null } = { metadata: meta0, metadataUri: null };
  // Six appends, each a slice of k spread over the partitions (k / 3 % 6 = i): files overlap in k, so a rewrite must sort.
  for (let i = 0; i < 6; i++) {
    const where = `intDiv(k, 3) % 6 = ${i}`;
    const files = i % 2
      ? (await writeWithClickHouse(ch, io, head.metadata, { table: src.name, src: `\`default\`.\`${src.name}\``, select: src.select, where: { sql: where, params: {} }, sortBy: ['k'], uniqueKey: ['k'], schema: src.schema, targetFileSizeBytes: 128 << 20, sortOrderId: 1 })).files
      : await writeDataFiles(io, head.metadata, await ch.arrow(`SELECT ${src.select.join(', ')} FROM ${src.name} WHERE ${where} ORDER BY k`), {});
    head = await prepareAppend(io, head, files, {});
  }
  const before = await listDataFiles(io, head.metadata);
  const chdbRows = async () => ch.json(`SELECT * FROM icebergLocal('${location.slice('file://'.length)}') ORDER BY k`);
  const chdbBefore = await chdbRows();
  const pyBefore = await pyiceberg(head.metadataUri!);
  assert.equal(chdbBefore.length, ALL_TYPES.rows);
  assert.equal(pyBefore.split('"k": ').length - 1, ALL_TYPES.rows);

  const plan = await planRewrite(io, head.metadata, { minInputFiles: 2 });
  assert.ok(plan.groups.length >= 3, `several partitions to compact (${plan.groups.length})`);
  assert.ok(plan.inputFiles >= 3 * plan.groups.length, `several files per group (${plan.inputFiles} in ${plan.groups.length})`);
  const viaCh = await rewriteWithClickHouse(ch, io, head.metadata, plan, { table: src.name, access: {}, concurrency: 2 });
  const viaWasm = await executeRewrite(io, head.metadata, plan);
  assert.equal(viaCh.added.length, plan.groups.length, 'one file per group');

  // The same rows, each once (k is unique), as coldtier reads them by field id.
  const chRows = await rowsOf(viaCh.added, src.schema);
  assert.equal(chRows.length, plan.inputRows);
  assert.equal(new Set(chRows.map((r) => r.k)).size, plan.inputRows, 'no row twice');
  const sortedJson = (rows: Array<Record<string, unknown>>) => rows.map(json).sort();
  assert.deepEqual(sortedJson(chRows), sortedJson(await rowsOf(viaWasm.added, src.schema)), 'the rows of the parquet-wasm rewrite');

  // Each file is sorted by the sort order: ns descending with nulls last, then k ascending.
  for (const f of viaCh.added) {
    const rows = await rowsOf([f], src.schema);
    const rank = (r: Record<string, unknown>) => [r.ns === null ? 0 : 1, r.ns as string | null, Number(r.k)] as const;
    for (let i = 1; i < rows.length; i++) {
      const [an, as, ak] = rank(rows[i - 1]!);
      const [bn, bs, bk] = rank(rows[i]!);
      const ok = an !== bn ? an > bn : as !== bs ? Buffer.compare(Buffer.from(as ?? ''), Buffer.from(bs ?? '')) > 0 : ak < bk;
      assert.ok(ok, `${f.file_path}: row ${i} (ns=${String(bs)}, k=${bk}) follows (ns=${String(as)}, k=${ak}) in the sort order`);
    }
  }

  // The same metrics as the parquet-wasm rewrite of the same group.
  const floats = new Set(src.schema.fields.filter((f) => f.type === 'float' || f.type === 'double').map((f) => f.id));
  const wasm = new Map(viaWasm.added.map((f) => [partitionKey(f), f]));
  let nans = 0;
  for (const fc of viaCh.added) {
    const key = partitionKey(fc);
    const fa = wasm.get(key)!;
    assert.ok(fa, `${key}: both rewrites wrote this partition`);
    assert.deepEqual(fc.partition, fa.partition);
    assert.equal(fc.record_count, fa.record_count, `${key}: rows`);
    assert.deepEqual(fc.value_counts, fa.value_counts, `${key}: value counts`);
    assert.deepEqual(fc.null_value_counts, fa.null_value_counts, `${key}: null counts`);
    assert.deepEqual(fc.nan_value_counts, fa.nan_value_counts, `${key}: NaN counts`);
    nans += Object.values(fc.nan_value_counts ?? {}).reduce((a, n) => a + Number(n), 0);
    for (const f of src.schema.fields) {
      for (const side of ['lower_bounds', 'upper_bounds'] as const) {
        const got = fc[side]?.[f.id];
        const want = fa[side]?.[f.id];
        // No bound for a float column holding NaN (ClickHouse writes no statistics for it): absent, never wrong.
        if (got === undefined && floats.has(f.id) && (fa.nan_value_counts?.[f.id] ?? 0) > 0) continue;
        const zero = (b?: Uint8Array) => b !== undefined && floats.has(f.id) && Buffer.from(b).every((x, i) => x === 0 || (i === b.length - 1 && x === 0x80));
        if (zero(got) && zero(want)) continue;
        assert.deepEqual(got && Buffer.from(got).toString('hex'), want && Buffer.from(want).toString('hex'), `${key}: ${side} of ${f.name}`);
      }
    }
  }
  assert.ok(nans > 0, 'the NaN of f32 is counted');

  // Commit the ClickHouse rewrite: chDB and PyIceberg read exactly the rows they read before.
  await Promise.all(viaWasm.added.map((f) => io.delete(f.file_path)));
  const replaced = await prepareReplace(io, { metadata: head.metadata, metadataUri: head.metadataUri! }, { ...viaCh, startingSnapshotId: plan.startingSnapshotId }, {});
  assert.equal((await listDataFiles(io, replaced.metadata)).length, before.length - plan.inputFiles + plan.groups.length);
  assert.deepEqual(await chdbRows(), chdbBefore, 'chDB reads the same rows after the compaction');
  assert.equal(await pyiceberg(replaced.metadataUri), pyBefore, 'PyIceberg reads the same rows after the compaction');
});

it('a table ClickHouse cannot write exactly is refused with the reason', async () => {
  const src = await source(ALL_TYPES.columns.filter(([n]) => ['k', 'arr', 't6'].includes(n)));
  const meta = newTableMetadata({ location: newTableLocation(`file://${warehouseDir('chcompact')}`, 'cold', src.name), schema: src.schema, partitionBy: [{ sourceColumn: 't6', transform: 'day' }], sortBy: [{ sourceColumn: 'k' }] });
  assert.match(compactionUnsupported(meta, []) ?? '', /column arr is a list/);
  const flat = await source(FLAT_TYPES.filter(([n]) => ['k', 's'].includes(n)));
  const bucket = newTableMetadata({ location: newTableLocation(`file://${warehouseDir('chcompact')}`, 'cold', flat.name), schema: flat.schema, partitionBy: [{ sourceColumn: 'k', transform: 'bucket[4]' }] });
  assert.match(compactionUnsupported(bucket, []) ?? '', /partition field .* uses bucket\[4\]/);
});
