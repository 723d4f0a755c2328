// Conformance: the tables the real offload path writes (Temporal workflow →
// activities → our Iceberg writer → JDBC catalog in Postgres → MinIO) read
// back equal to the ClickHouse source through two independent readers:
// PyIceberg (SqlCatalog on the same database, the way Spark/Trino/PyIceberg
// users reach them) and ClickHouse's own icebergS3. Covers the ten seed
// tables, a schema evolution, partition pruning and every mapped type.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import type { OffloadTableResult, OffloadWorkflowResult } from '../src/activities/types';
import { loadTable } from '../src/iceberg';
import { startOffload } from '../src/cli/offload';
import type { ClickHouse } from '../src/clickhouse/client';
import { defaultTables } from '../src/config/tables';
import { readWatermark } from '../src/db/watermarks';
import { createBronzeTable, createSilverAndGold, EXCHANGES, insertTrades } from '../src/feed/synthetic';
import { readTableMetadata, type IcebergType, type TableMetadata } from '../src/iceberg';
import { icebergSchemaFromClickHouse } from '../src/clickhouse/schema/from-clickhouse';
import { venvBinDir } from '../src/devstack/tools';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, fingerprint, icebergFunction, makeTestEnv, type TestEnv } from './helpers/coldtier';
import { ALL_TYPES, allTypesDdl, allTypesInsert, FLAT_TYPES } from './iceberg/conformance-types';
import { assertNameMapping } from './iceberg/helpers';

// The pyiceberg venv that npm test installs (.tools/venv, or under COLDTIER_TOOLS_DIR).
const python = join(venvBinDir(), 'python');
const byTable = (r: OffloadWorkflowResult) => new Map<string, OffloadTableResult>(r.tables.map((t) => [t.table, t]));

/** One offload cycle through Temporal, without startOffload's JSON print (the test asserts on the result). */
async function offload(settings: TestEnv['settings']): Promise<Map<string, OffloadTableResult>> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return byTable((await startOffload(settings, { wait: true, json: true }))!);
  } finally {
    console.log = log;
  }
}

interface PyTable {
  rows: number;
  keyHash: string;
  sums: Record<string, string>;
  nulls: Record<string, number>;
  schema: Array<{ id: number; name: string; type: string; required: boolean }>;
  schemas: number;
  spec: Array<Record<string, unknown>>;
  snapshots: Array<{ id: string; parent: string | null; operation: string }>;
  summary: Record<string, string>;
  files: number;
  filteredRows?: number;
  filteredTasks?: number;
  nameMapping?: unknown;
  nameMappedIds?: Record<string, string>;
  schemaIds?: Record<string, string>;
}

interface TableCheck { name: string; key: string[]; sums: string[]; where: string; filter?: string; dump?: string }

/** Runs test/iceberg/pyiceberg_scan.py against the test's catalog and bucket. */
async function pyiceberg(env: TestEnv, tables: TableCheck[]): Promise<Record<string, PyTable>> {
  const s = env.settings;
  const cfg = {
    catalog: s.catalog.name,
    namespace: s.catalog.namespace,
    uri: s.databaseUrl.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://'),
    props: { 's3.endpoint': s.s3.endpoint, 's3.access-key-id': s.s3.accessKeyId, 's3.secret-access-key': s.s3.secretAccessKey, 's3.region': s.s3.region, 's3.path-style-access': 'true' },
    tables: tables.map(({ name, key, sums, filter, dump }) => ({ name, key, sums, ...(filter ? { filter } : {}), ...(dump ? { dump } : {}) })),
  };
  const { stdout } = await promisify(execFile)(python, [join('test', 'iceberg', 'pyiceberg_scan.py'), JSON.stringify(cfg)], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Record<string, PyTable>;
}

/** What the Python side computes, computed by ClickHouse over the source. */
async function sourceFacts(ch: ClickHouse, from: string, c: TableCheck) {
  const types = new Map((await ch.json<{ name: string; type: string }>(`DESCRIBE ${from}`)).map((r) => [r.name, r.type]));
  const keyExpr = c.key.map((k) => (types.get(k)!.includes('DateTime64') ? `toString(toUnixTimestamp64Micro(${k}))` : `ifNull(toString(${k}), '\\\\N')`));
  const sums = c.sums.map((n) => `toString(sum(${n})) AS sum_${n}`);
  const [row] = await ch.json<Record<string, string>>(`SELECT toString(count()) AS rows,
    lower(hex(SHA256(arrayStringConcat(arraySort(groupArray(concatWithSeparator('|', ${keyExpr.join(', ')}))), '\n')))) AS keyHash
    ${sums.length ? `, ${sums.join(', ')}` : ''} FROM ${from} WHERE ${c.where}`);
  const { rows, keyHash } = row!;
  return { rows: Number(rows), keyHash, sums: Object.fromEntries(c.sums.map((n) => [n, row![`sum_${n}`]!])) };
}

/** Our type in PyIceberg's str() spelling, without spaces: `decimal(18,8)`, `list<int>`, `map<string,long>`. */
function typeName(t: IcebergType): string {
  if (typeof t === 'string') return t.replace(/\s+/g, '');
  if (t.type === 'list') return `list<${typeName(t.element)}>`;
  if (t.type === 'map') return `map<${typeName(t.key)},${typeName(t.value)}>`;
  return `struct<${t.fields.map((f) => `${f.id}:${f.name}:${f.required ? 'required' : 'optional'}${typeName(f.type)}`).join(',')}>`;
}

/** PyIceberg's view of the table's metadata equals the metadata we wrote. */
function assertSameMetadata(py: PyTable, meta: TableMetadata, name: string) {
  const schema = meta.schemas.find((x) => x['schema-id'] === meta['current-schema-id'])!;
  const expectFields = schema.fields.map((f) => ({ id: f.id, name: f.name, type: typeName(f.type), required: f.required }));
  const gotFields = py.schema.map((f) => ({ ...f, type: f.type.replace(/\s+/g, '') }));
  assert.deepEqual(gotFields, expectFields, `${name}: schema field ids, names, types`);
  assert.equal(py.schemas, meta.schemas.length, `${name}: schema history`);
  assert.deepEqual(py.spec, meta['partition-specs'].find((x) => x['spec-id'] === meta['default-spec-id'])!.fields.map((f) => ({ ...f })), `${name}: partition spec`);
  assert.deepEqual(py.snapshots, meta.snapshots.map((x) => ({ id: String(x['snapshot-id']), parent: x['parent-snapshot-id'] === undefined ? null : String(x['parent-snapshot-id']), operation: x.summary.operation })), `${name}: snapshots`);
  const cur = meta.snapshots.find((x) => x['snapshot-id'] === meta['current-snapshot-id'])!;
  for (const k of ['total-records', 'total-data-files', 'total-files-size']) assert.equal(py.summary[k], cur.summary[k], `${name}: ${k}`);
  assert.equal(Number(py.summary['total-records']), py.rows, `${name}: total-records = rows scanned`);
  assert.equal(Number(py.summary['total-data-files']), py.files, `${name}: total-data-files = files`);
}

test('conformance: PyIceberg and ClickHouse read the offloaded tables equal to the source', async () => {
  assert.ok(existsSync(python), `no PyIceberg python at ${python}: run bash scripts/ensure-tools.sh (npm test does), or set COLDTIER_TOOLS_DIR to the tools directory holding venv/`);
  const env = await makeTestEnv({
    warehouse: 's3',
    tables: (tag) => [
      ...defaultTables.map((x) => (x.layer === 'gold' ? x : { ...x, lateDataBufferSeconds: 0 })),
      bronzeTable(`alltypes_t${tag}`, { partitionBy: [{ column: 't6', transform: 'day' }], sortBy: ['k'] }),
      bronzeTable(`flattypes_t${tag}`, { partitionBy: [{ column: 't6', transform: 'day' }], sortBy: ['k'] }),
    ],
  });
  const { settings } = env;
  const allTypes = `alltypes_t${env.tag}`;
  // Every flat type again, through the ClickHouse Parquet encoder (the all-types table has lists and maps: Arrow path).
  const flatTypes = `flattypes_t${env.tag}`;
  const typeTables = [allTypes, flatTypes];
  const services = await openServices(settings);
  const { ch, pool, io } = services;
  const ice = (table: string) => icebergFunction(env, table);
  const idOf = (table: string) => ({ catalog: settings.catalog.name, namespace: settings.catalog.namespace, table });
  const events = async (name: string) => Number((await ch.json<{ v: string }>(`SELECT toString(value) AS v FROM system.events WHERE event = '${name}'`))[0]?.v ?? 0);
  try {
    for (const ex of EXCHANGES) await createBronzeTable(ch, `bronze_trades_${ex}`);
    await createSilverAndGold(ch);
    const sizes = { binance: 6_000, kraken: 2_000, coinbase: 3_000 };
    for (const ex of EXCHANGES) await insertTrades(ch, `bronze_trades_${ex}`, { rows: sizes[ex], exchange: ex, spreadSeconds: 2 * 86_400, seed: 11 });
    await ch.command(allTypesDdl(allTypes));
    await ch.command(allTypesInsert(allTypes));
    await ch.command(allTypesDdl(flatTypes, FLAT_TYPES));
    await ch.command(allTypesInsert(flatTypes, FLAT_TYPES));

    const worker = await createWorker(settings, { services });
    await worker.runUntil(async () => {
      const first = await offload(settings);
      for (const [name, r] of first) assert.equal(r.status, 'committed', `${name}: ${r.reason ?? ''}`);
      assert.equal(first.get(allTypes)!.rows, ALL_TYPES.rows);
      assert.equal(first.get(flatTypes)!.rows, ALL_TYPES.rows);
      assert.equal(first.get(allTypes)!.encoder, 'arrow', 'lists and maps: the Arrow encoder');
      assert.match(first.get(allTypes)!.encoderReason ?? '', /^column \w+ is /, 'the result says why not ClickHouse');
      assert.equal(first.get(flatTypes)!.encoder, 'clickhouse');
      for (const [name, r] of first) if (!typeTables.includes(name)) assert.equal(r.encoder, 'clickhouse', `${name}: ClickHouse encodes the seed tables`);

      // Schema evolution: a column added in ClickHouse, then more rows; old rows must read null.
      await ch.command(`ALTER TABLE bronze_trades_kraken ADD COLUMN venue LowCardinality(String) DEFAULT 'XKRK'`);
      // (Event times in the future: they must not land in gold windows that were already offloaded as closed.)
      await insertTrades(ch, 'bronze_trades_kraken', { rows: 200, exchange: 'kraken', spreadSeconds: 3600, seed: 12, eventTimeEnd: new Date(Date.now() + 2 * 86_400_000) });
      const second = await offload(settings);
      assert.equal(second.get('bronze_trades_kraken')!.rows, 200);
      assert.equal(second.get('silver_trades')!.rows, 200);
    });

    // The checks: bronze and silver against the whole source, gold against its closed windows.
    const checks: TableCheck[] = [];
    for (const x of settings.tables.filter((c) => !typeTables.includes(c.name))) {
      let where = '1';
      if (x.layer === 'gold') {
        const wm = await readWatermark(pool, idOf(x.name));
        where = `window_start <= toDateTime64('${wm!.values[0]}', 6, 'UTC')`;
      }
      const key = x.layer === 'gold' ? ['exchange', 'symbol', 'window_start', 'open', 'close', 'trade_count'] : ['exchange', 'sequence', 'trade_id', 'exchange_timestamp', 'price'];
      const sums = x.layer === 'gold' ? ['volume', 'notional', 'trade_count'] : ['price', 'quantity'];
      checks.push({ name: x.name, key, sums, where, dump: join(env.dir, `${x.name}.arrow`) });
    }
    const [{ d }] = (await ch.json<{ d: string }>(`SELECT toString(toDate(max(exchange_timestamp))) AS d FROM bronze_trades_binance`)) as [{ d: string }];
    const pruned = `exchange_timestamp >= '${d}T00:00:00+00:00'`;
    checks.find((c) => c.name === 'bronze_trades_binance')!.filter = pruned;
    for (const t of typeTables) checks.push({ name: t, key: ['k', 's', 't6', 'd38'], sums: ['d38', 'i64'], where: '1', dump: join(env.dir, `${t}.arrow`) });

    const py = await pyiceberg(env, checks);
    for (const c of checks) {
      const loaded = (await loadTable(pool, io, idOf(c.name)))!;
      const layer = settings.tables.find((x) => x.name === c.name)!.layer;
      const from = typeTables.includes(c.name) ? `(SELECT ${icebergSchemaFromClickHouse(c.name, await ch.json(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${c.name}' ORDER BY position`)).select.join(', ')} FROM ${c.name})` : c.name;
      const facts = await sourceFacts(ch, from, c);
      const got = py[c.name]!;
      assert.deepEqual({ rows: got.rows, keyHash: got.keyHash, sums: got.sums }, facts, `${c.name}: PyIceberg rows, key hash and sums equal the source`);
      assertSameMetadata(got, loaded.metadata, c.name);
      // The name mapping covers every field id (nested too), PyIceberg parses it to the same entries and resolves
      // every field of a file without ids through it to the table's own ids.
      assert.deepEqual(got.nameMapping, assertNameMapping(loaded.metadata, c.name), `${c.name}: PyIceberg's name mapping`);
      assert.deepEqual(got.nameMappedIds, got.schemaIds, `${c.name}: field ids resolved by the name mapping`);
      if (typeTables.includes(c.name)) continue;
      // Every cell: PyIceberg's decoded rows (dumped losslessly as Arrow IPC) fingerprinted by ClickHouse.
      assert.deepEqual(await fingerprint(ch, `file('${c.dump}', 'Arrow')`, layer), await fingerprint(ch, c.name, layer, c.where), `${c.name}: PyIceberg cells`);
      assert.deepEqual(await fingerprint(ch, ice(c.name), layer), await fingerprint(ch, c.name, layer, c.where), `${c.name}: icebergS3 cells`);
    }

    // Schema evolution, seen by both readers: a new optional field with the next id; old rows null.
    const kraken = (await loadTable(pool, io, idOf('bronze_trades_kraken')))!.metadata;
    const pk = py.bronze_trades_kraken!;
    assert.equal(pk.schemas, 2);
    const venue = pk.schema.find((f) => f.name === 'venue')!;
    assert.deepEqual(venue, { id: 10, name: 'venue', type: 'string', required: false });
    assert.equal(kraken['last-column-id'], 10);
    const krakenMapping = assertNameMapping(kraken, 'bronze_trades_kraken');
    assert.deepEqual(krakenMapping.at(-1), { 'field-id': 10, names: ['venue'] }, 'the new column is added to the name mapping');
    assert.equal(krakenMapping.length, 10);
    assert.equal(pk.nulls.venue, 2000);
    const [v] = await ch.json<{ nulls: string; set: string }>(`SELECT toString(countIf(venue IS NULL)) AS nulls, toString(countIf(venue = 'XKRK')) AS set FROM ${ice('bronze_trades_kraken')}`);
    assert.deepEqual(v, { nulls: '2000', set: '200' });

    // Partition pruning: PyIceberg plans only the last day's files; ClickHouse prunes by partition value too.
    const pb = py.bronze_trades_binance!;
    const [dayCount] = await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM bronze_trades_binance WHERE toDate(exchange_timestamp) >= '${d}'`);
    assert.equal(pb.filteredRows, Number(dayCount!.n));
    assert.ok(pb.filteredTasks! < pb.files, `PyIceberg planned ${pb.filteredTasks} of ${pb.files} files`);
    const before = await events('IcebergPartitionPrunedFiles');
    const [chDay] = await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${ice('bronze_trades_binance')} WHERE exchange_timestamp >= toDateTime64('${d} 00:00:00', 6, 'UTC') SETTINGS use_iceberg_partition_pruning = 1`);
    assert.deepEqual(chDay, dayCount);
    assert.ok((await events('IcebergPartitionPrunedFiles')) > before, 'icebergS3 skipped files by partition value');

    // Every mapped type, nulls, empty strings, unicode, extremes, µs: PyIceberg and icebergS3 rows equal the source's,
    // from either encoder.
    for (const t of typeTables) {
      const cols = await ch.json<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${t}' ORDER BY position`);
      const { select } = icebergSchemaFromClickHouse(t, cols);
      const expected = await ch.json(`SELECT ${select.join(', ')} FROM ${t} ORDER BY k`);
      assert.equal(expected.length, ALL_TYPES.rows);
      assert.deepEqual(await ch.json(`SELECT * FROM ${ice(t)} ORDER BY k`), expected, `${t}: icebergS3 reads every type back`);
      assert.deepEqual(await ch.json(`SELECT * FROM file('${join(env.dir, `${t}.arrow`)}', 'Arrow') ORDER BY k`), expected, `${t}: PyIceberg reads every type back`);
    }

    // A corrupt metadata file is reported with its name.
    const bad = `${settings.warehouse}/${settings.catalog.namespace}/${allTypes}/metadata/99999-corrupt.metadata.json`;
    await io.write(bad, new TextEncoder().encode('{"format-version": 2, "table-uuid": '));
    await assert.rejects(readTableMetadata(io, bad), (err: Error) => err.message.includes(bad));
    await io.delete(bad);
  } finally {
    await services.close();
  }
});
