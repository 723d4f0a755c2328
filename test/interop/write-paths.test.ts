// Every path that writes Parquet (the ClickHouse encoder, the Arrow encoder that offloads, fan-out ranges, backfill
// and repair also use, and compaction) annotates uuid columns with the UUID logical type, and by default writes
// around the reader bugs of docs/interop.md: no min/max on uuid columns (neither in the files nor as manifest bounds)
// and no dictionary for float/double columns. A table property turns each back on. Checked with pyarrow, a reader
// independent of coldtier's footer code.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { writeWithClickHouse } from '../../src/activities/offload/clickhouse-write';
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/client';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { venvBinDir } from '../../src/devstack/tools';
import { createFileIO, executeRewrite, newTableLocation, newTableMetadata, planRewrite, prepareAppend, writeDataFiles, type DataFile, type Schema, type TableMetadata } from '../../src/iceberg';
import { randomName, tempDir, warehouseDir } from '../iceberg/helpers';

const python = join(venvBinDir(), 'python');
const io = createFileIO({});
let ch: ClickHouse;
before(async () => {
  ch = await openClickHouse({ url: `chdb://${tempDir('wpaths')}`, username: 'default', password: '', database: 'default' });
});
after(async () => {
  await ch.close();
});

interface Column { physical: string; logical: string; length: number; min_max: boolean; page_index: boolean; encodings: string[] }
async function columns(files: DataFile[]): Promise<Array<Record<string, Column>>> {
  const paths = files.map((f) => f.file_path.replace(/^file:\/\//, ''));
  const { stdout } = await promisify(execFile)(python, [join(import.meta.dirname, 'parquet_columns.py'), ...paths]);
  const all = JSON.parse(stdout) as Record<string, Record<string, Column>>;
  return paths.map((p) => all[p]!);
}

async function source(): Promise<{ name: string; schema: Schema; select: string[] }> {
  const name = randomName('wp');
  // Few distinct floats (so an encoder would pick a dictionary), UUIDs on both sides of the signed-long midpoint.
  await ch.command(`CREATE TABLE ${name} (k UInt32, id UUID, nid Nullable(UUID), f32 Float32, f64 Float64) ENGINE = MergeTree ORDER BY k`);
  await ch.command(`INSERT INTO ${name} SELECT number, if(number % 2 = 0, toUUID('ffffffff-0000-4000-8000-000000000001'), toUUID('00000000-0000-4000-8000-000000000002')),
    if(number % 3 = 0, NULL, generateUUIDv4(number)), [-0., 0., 1.5][number % 3 + 1], [-0., 0., 2.5][number % 3 + 1] FROM numbers(3000)`);
  const cols = await ch.json<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position`, { t: name });
  return { name, ...icebergSchemaFromClickHouse(name, cols) };
}

function table(name: string, schema: Schema, properties: Record<string, string>): TableMetadata {
  return newTableMetadata({ location: newTableLocation(`file://${warehouseDir('wpaths')}`, 'cold', name), schema, sortBy: [{ sourceColumn: 'k' }], properties });
}

/** Writes the source through each path: ClickHouse's encoder, the Arrow encoder (3 files), then compaction of those. */
async function writeEveryPath(props: Record<string, string>): Promise<{ schema: Schema; paths: Record<string, DataFile[]> }> {
  const src = await source();
  const viaCh = await writeWithClickHouse(ch, io, table(src.name, src.schema, props), {
    table: src.name, src: `\`default\`.\`${src.name}\``, select: src.select, where: { sql: '1', params: {} }, sortBy: ['k'], uniqueKey: ['k'], schema: src.schema, targetFileSizeBytes: 128 << 20, sortOrderId: 1,
  });
  let committed = { metadata: table(src.name, src.schema, props), metadataUri: null as string | null };
  const arrow: DataFile[] = [];
  for (const range of ['k < 1000', 'k >= 1000 AND k < 2000', 'k >= 2000']) {
    const files = await writeDataFiles(io, committed.metadata, await ch.arrow(`SELECT ${src.select.join(', ')} FROM ${src.name} WHERE ${range} ORDER BY k`), { sortOrderId: 1 });
    arrow.push(...files);
    committed = await prepareAppend(io, committed, files, {});
  }
  const plan = await planRewrite(io, committed.metadata, { minInputFiles: 2 });
  assert.equal(plan.inputFiles, 3, 'compaction takes the three Arrow files');
  const compacted = await executeRewrite(io, committed.metadata, plan);
  return { schema: src.schema, paths: { clickhouse: viaCh.files, arrow, compaction: compacted.added } };
}

it('every write path annotates uuid columns, and by default writes no uuid min/max and no float dictionary', async () => {
  const { schema, paths } = await writeEveryPath({});
  const uuidIds = schema.fields.filter((f) => f.type === 'uuid').map((f) => f.id);
  assert.deepEqual(schema.fields.filter((f) => f.type === 'uuid').map((f) => f.name), ['id', 'nid']);
  for (const [path, files] of Object.entries(paths)) {
    assert.ok(files.length > 0, `${path} wrote files`);
    for (const [i, cols] of (await columns(files)).entries()) {
      const where = `${path} file ${i}`;
      for (const c of ['id', 'nid']) {
        assert.equal(cols[c]!.physical, 'FIXED_LEN_BYTE_ARRAY', `${where}: ${c}`);
        assert.equal(cols[c]!.length, 16, `${where}: ${c}`);
        assert.equal(cols[c]!.logical, 'UUID', `${where}: ${c} has the UUID logical type`);
        assert.equal(cols[c]!.min_max, false, `${where}: ${c} has no min/max statistics`);
        assert.equal(cols[c]!.page_index, false, `${where}: ${c} has no page index`);
      }
      for (const c of ['f32', 'f64']) assert.ok(!cols[c]!.encodings.some((e) => e.includes('DICTIONARY')), `${where}: ${c} is not dictionary-encoded (${cols[c]!.encodings.join(', ')})`);
      assert.ok(cols.k!.min_max, `${where}: other columns keep their statistics`);
    }
    for (const f of files) {
      for (const id of uuidIds) assert.equal(f.lower_bounds?.[id] ?? f.upper_bounds?.[id], undefined, `${path}: no uuid bounds in the manifest`);
      assert.ok(f.lower_bounds?.[schema.fields[0]!.id], `${path}: k keeps its bounds`);
    }
  }
});

it('a table opts back in to uuid bounds and float dictionaries with its properties', async () => {
  const { schema, paths } = await writeEveryPath({ 'coldtier.write.uuid-bounds': 'true', 'coldtier.write.parquet.float-dictionary': 'true' });
  const id = schema.fields.find((f) => f.name === 'id')!.id;
  for (const [path, files] of Object.entries(paths)) {
    for (const [i, cols] of (await columns(files)).entries()) {
      assert.equal(cols.id!.logical, 'UUID', `${path} file ${i}`);
      assert.ok(cols.id!.min_max, `${path} file ${i}: uuid min/max kept`);
      assert.ok(cols.f64!.encodings.some((e) => e.includes("DICTIONARY")), `${path} file ${i}: f64 dictionary-encoded (${cols.f64!.encodings.join(", ")})`);
    }
    for (const f of files) {
      assert.ok(f.lower_bounds?.[id] && f.upper_bounds?.[id], `${path}: uuid bounds in the manifest`);
      // Bounds order UUIDs as unsigned bytes (the spec's order): 00000000-… is below ffffffff-….
      assert.equal(Buffer.from(f.lower_bounds[id]).toString('hex').slice(0, 8), '00000000', path);
      assert.equal(Buffer.from(f.upper_bounds![id]!).toString('hex').slice(0, 8), 'ffffffff', path);
    }
  }
});
