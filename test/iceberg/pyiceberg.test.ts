// A third, strict reader: PyIceberg (from the venv npm test installs; missing it fails the test)
// reads our tables, plans a filtered scan from our manifests' partition
// summaries and column bounds, and decodes our metrics.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { createFileIO, newTableLocation, newTableMetadata, prepareAppend, writeDataFiles } from '../../src/iceberg';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { venvBinDir } from '../../src/devstack/tools';
import { assertNameMapping, openChdb, randomName, warehouseDir, type Chdb } from './helpers';

const python = join(venvBinDir(), 'python');
let ch: Chdb;
before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

const SCRIPT = `
import json, sys
from pyiceberg.table import StaticTable
t = StaticTable.from_metadata(sys.argv[1])
rows = t.scan().to_arrow()
filtered = t.scan(row_filter="ts >= '2026-11-21T00:00:00+00:00' and ts < '2026-11-22T00:00:00+00:00' and v >= 30").to_arrow()
files = t.inspect.files().to_pylist()
m = [f['readable_metrics'] for f in files]
print(json.dumps({
  "rows": rows.num_rows,
  "sum_v": sum(rows.column('v').to_pylist()),
  "sum_d": str(sum(rows.column('d').to_pylist())),
  "filtered": filtered.num_rows,
  "tasks": len(list(t.scan(row_filter="ts >= '2026-11-21T00:00:00+00:00' and ts < '2026-11-22T00:00:00+00:00'").plan_files())),
  "snapshots": [dict(s.summary.additional_properties) for s in t.snapshots()],
  "files": len(files),
  "v_min": min(x['v']['lower_bound'] for x in m),
  "v_max": max(x['v']['upper_bound'] for x in m),
  "s_upper": sorted(x['s']['upper_bound'] for x in m)[-1],
  "name_mapping": json.loads(t.name_mapping().model_dump_json()),
}))
`;

it('PyIceberg reads the table, prunes by partition and bounds, and decodes metrics', async () => {
  assert.ok(existsSync(python), `no PyIceberg python at ${python}: run bash scripts/ensure-tools.sh (npm test does), or set COLDTIER_TOOLS_DIR to the tools directory holding venv/`);
  const source = randomName('py');
  await ch.command(`CREATE TABLE ${source} (ts DateTime64(6, 'UTC'), v Int64, d Decimal(18, 8), s String, n Nullable(Float64)) ENGINE = MergeTree ORDER BY ts`);
  await ch.command(`INSERT INTO ${source} SELECT toDateTime64('2026-11-20 00:00:00', 6, 'UTC') + toIntervalHour(number), number, number / 8, concat('symbol-with-a-long-name-', toString(number)), if(number % 3 = 0, NULL, number / 2) FROM numbers(96)`);
  const columns = await ch.rows<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${source}' ORDER BY position`);
  const { schema, select } = icebergSchemaFromClickHouse(source, columns);
  const io = createFileIO({});
  const location = newTableLocation(`file://${warehouseDir('py')}`, 'cold', source);
  const meta = newTableMetadata({ location, schema, partitionBy: [{ sourceColumn: 'ts', transform: 'day' }] });
  const first = await writeDataFiles(io, meta, await ch.arrow(`SELECT ${select.join(', ')} FROM ${source} WHERE v < 48 ORDER BY ts`));
  const c1 = await prepareAppend(io, { metadata: meta, metadataUri: null }, first, { summary: { 'coldtier.offload-id': 'one' } });
  const second = await writeDataFiles(io, c1.metadata, await ch.arrow(`SELECT ${select.join(', ')} FROM ${source} WHERE v >= 48 ORDER BY ts`));
  const c2 = await prepareAppend(io, c1, second, { summary: { 'coldtier.offload-id': 'two' } });

  const { stdout } = await promisify(execFile)(python, ['-c', SCRIPT, c2.metadataUri]);
  const got = JSON.parse(stdout) as Record<string, unknown>;
  assert.equal(got.rows, 96);
  assert.equal(got.sum_v, (95 * 96) / 2);
  assert.equal(got.sum_d, '570.00000000');
  assert.equal(got.filtered, 24 - 6); // hours 24..47 of day 2, v >= 30
  assert.equal(got.tasks, 1, 'only the 2026-11-21 file is planned');
  assert.equal(got.files, 4);
  assert.equal(got.v_min, 0);
  assert.equal(got.v_max, 95);
  assert.equal(got.s_upper, 'symbol-with-a-lp', 'truncated to 16 chars and incremented');
  const [s1, s2] = got.snapshots as Array<Record<string, string>>;
  assert.equal(s1?.['coldtier.offload-id'], 'one');
  assert.equal(s2?.['total-records'], '96');
  assert.equal(s2?.['added-records'], '48');
  assert.equal(s2?.['total-data-files'], '4');
  assert.deepEqual(got.name_mapping, assertNameMapping(c2.metadata), 'PyIceberg parses the name mapping');
});
