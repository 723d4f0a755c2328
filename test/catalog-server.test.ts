// The Iceberg REST catalog (`coldtier catalog`, issue 18) as engines use it: after a real offload (Temporal →
// activities → Iceberg → JDBC catalog in Postgres → MinIO), PyIceberg's RestCatalog, DuckDB's iceberg extension
// and chDB's DataLakeCatalog find and read the tables equal to the ClickHouse source, again after a compaction;
// writes, a wrong token, unknown names and malformed requests get the spec's errors and change nothing in Postgres.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import type { OffloadWorkflowResult } from '../src/activities/types';
import { startMaintenance } from '../src/cli/maintain';
import { startOffload } from '../src/cli/offload';
import { defaultTables } from '../src/config/tables';
import { readWatermark } from '../src/db/watermarks';
import { createBronzeTable, createSilverAndGold, EXCHANGES, insertTrades } from '../src/feed/synthetic';
import { getFreePort } from '../src/devstack/ports';
import { createWorker, openServices } from '../src/worker';
import { catalogRows, python, restReaders, sourceFacts, startCatalogProcess, type Facts, type ReaderTable } from './catalog/helpers';
import { makeTestEnv } from './helpers/coldtier';
import { checkErrors } from './catalog/errors-check';

interface PyResult {
  namespaces: string[][];
  tables: string[];
  exists: boolean;
  scans: Record<string, Facts & { metadataLocation: string; snapshot: string }>;
}

/** Runs a CLI helper without its JSON print (the test asserts on the result). */
async function quiet<T>(f: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await f();
  } finally {
    console.log = log;
  }
}

test('REST catalog: PyIceberg, DuckDB and chDB find and read the cold tables; writes and bad requests are refused', async () => {
  assert.ok(existsSync(python), `no venv python at ${python}: run bash scripts/ensure-tools.sh (npm test does)`);
  const env = await makeTestEnv({ warehouse: 's3', tables: () => defaultTables.map((x) => (x.layer === 'gold' ? x : { ...x, lateDataBufferSeconds: 0 })) });
  const { settings } = env;
  const ns = settings.catalog.namespace;
  const token = randomBytes(24).toString('hex');
  const services = await openServices(settings);
  const { ch, pool } = services;
  const worker = await createWorker(settings, { services });
  const offload = async (first: boolean) => {
    const r = (await quiet(() => startOffload(settings, { wait: true, json: true })))! as OffloadWorkflowResult;
    // The second cycle may find no newly closed gold window: nothing to commit there.
    for (const t of r.tables) assert.ok(t.status === 'committed' || (!first && t.status === 'noop'), `${t.table}: ${t.status} ${t.reason ?? ''}`);
  };
  const checks: ReaderTable[] = settings.tables.map((t) =>
    t.layer === 'gold' ? { name: t.name, key: ['exchange', 'symbol', 'window_start'], sums: ['volume', 'trade_count'] } : { name: t.name, key: ['exchange', 'sequence', 'trade_id'], sums: ['price', 'quantity'] },
  );
  const bronze = checks.filter((c) => c.name.startsWith('bronze_'));
  /** Gold tables hold closed windows only: compare with the source up to the watermark, as test/conformance does. */
  const whereOf = async (name: string) => {
    if (settings.tables.find((t) => t.name === name)!.layer !== 'gold') return '1';
    const wm = await readWatermark(pool, { catalog: settings.catalog.name, namespace: ns, table: name });
    return `window_start <= toDateTime64('${wm!.values[0]}', 6, 'UTC')`;
  };
  const s3 = { 's3.endpoint': settings.s3.endpoint!, 's3.access-key-id': settings.s3.accessKeyId!, 's3.secret-access-key': settings.s3.secretAccessKey!, 's3.region': settings.s3.region };
  const warehouse = settings.catalog.name;

  let catalog: Awaited<ReturnType<typeof startCatalogProcess>> | undefined;
  try {
    for (const ex of EXCHANGES) await createBronzeTable(ch, `bronze_trades_${ex}`);
    await createSilverAndGold(ch);
    const sizes = { binance: 3_000, kraken: 1_000, coinbase: 1_500 };
    for (const ex of EXCHANGES) await insertTrades(ch, `bronze_trades_${ex}`, { rows: sizes[ex], exchange: ex, spreadSeconds: 2 * 86_400, seed: 21 });
    await worker.runUntil(async () => {
      await offload(true);
      // Two more commits into the same day partition, so it has small files to compact later. (Event times in the
      // future: they must not land in gold windows already offloaded as closed, which keep their values by design.)
      for (const seed of [22, 23]) {
        for (const ex of EXCHANGES) await insertTrades(ch, `bronze_trades_${ex}`, { rows: 300, exchange: ex, spreadSeconds: 3600, seed, eventTimeEnd: new Date(Date.now() + 2 * 86_400_000) });
        await offload(false);
      }
    });

    // Started the way the compose file starts it (catalog --metrics-port N), its port from the command line.
    catalog = await startCatalogProcess(env, token, {}, ['catalog', '--metrics-port', String(await getFreePort()), '--port']);
    const cfg = { uri: catalog.url, token, warehouse, namespace: ns, s3 };

    // PyIceberg: lists, loads each of the ten tables, scans them equal to the source.
    const readAll = async () => {
      const py = await restReaders<PyResult>('pyiceberg', { ...cfg, tables: checks });
      assert.deepEqual(py.namespaces, [[ns]]);
      assert.deepEqual(py.tables, checks.map((c) => c.name).sort());
      assert.equal(py.exists, true);
      for (const c of checks) {
        const { metadataLocation: _m, snapshot: _s, ...got } = py.scans[c.name]!;
        assert.deepEqual(got, await sourceFacts(ch, c.name, c, await whereOf(c.name)), `${c.name}: PyIceberg through the REST catalog equals the source`);
      }
      return py;
    };
    const before = await readAll();

    // DuckDB: ATTACH the catalog; count(*) and the checksum of each bronze table equal the source.
    const duck = await restReaders<{ tables: string[]; scans: Record<string, Facts & { count: number }> }>('duckdb', { ...cfg, tables: bronze });
    assert.deepEqual(duck.tables, checks.map((c) => c.name).sort(), 'DuckDB lists the tables of the attached catalog');
    for (const c of bronze) {
      const { count, ...got } = duck.scans[c.name]!;
      const src = await sourceFacts(ch, c.name, c);
      assert.equal(count, src.rows, `${c.name}: DuckDB count(*)`);
      assert.deepEqual(got, src, `${c.name}: DuckDB checksum`);
    }

    // chDB: ClickHouse's DataLakeCatalog database engine over the REST catalog.
    const db = `rest_${env.tag}`;
    const storage = `${settings.s3.endpoint}/${settings.warehouse.slice('s3://'.length).split('/')[0]}`;
    await ch.command('SET allow_database_iceberg = 1'); // beta in ClickHouse 26.7 (chDB 3.4)
    await ch.command(`CREATE DATABASE ${db} ENGINE = DataLakeCatalog('${catalog.url}/v1')
      SETTINGS catalog_type = 'rest', warehouse = '${warehouse}', auth_header = 'Authorization: Bearer ${token}', storage_endpoint = '${storage}',
        vended_credentials = false, aws_access_key_id = '${settings.s3.accessKeyId}', aws_secret_access_key = '${settings.s3.secretAccessKey}'`);
    const chTables = (await ch.json<{ name: string }>(`SHOW TABLES FROM ${db}`)).map((r) => r.name).sort();
    assert.deepEqual(chTables, checks.map((c) => `${ns}.${c.name}`).sort(), 'chDB lists the tables through the REST catalog');
    for (const c of bronze) {
      const [got] = await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${db}.\`${ns}.${c.name}\``);
      assert.equal(Number(got!.n), (await sourceFacts(ch, c.name, c)).rows, `${c.name}: chDB DataLakeCatalog count`);
    }

    // Refused writes (through PyIceberg and raw HTTP), wrong tokens, unknown names, malformed requests.
    const rowsBefore = await catalogRows(pool);
    const writes = await restReaders<Record<string, { error: string | null; message?: string }>>('pyiceberg-writes', { ...cfg, tables: bronze });
    for (const [what, r] of Object.entries(writes)) {
      assert.equal(r.error, 'ForbiddenError', `${what}: PyIceberg raises ForbiddenError (${r.message ?? 'no error'})`);
      assert.match(r.message!, /coldtier owns these tables/, what);
    }
    const etag = await checkErrors({ url: catalog.url, token, warehouse, ns, table: bronze[0]!.name, secrets: [settings.s3.secretAccessKey!, settings.databaseUrl] });
    assert.equal(await catalogRows(pool), rowsBefore, 'no refused or bad request changed the catalog in Postgres');

    // Compaction, then every table again: the new snapshot is served (new ETag) and still equals the source.
    // (A Temporal worker runs once: a second one for the maintenance run.)
    await (await createWorker(settings, { services })).runUntil(async () => {
      const m = await quiet(() => startMaintenance(settings, { stages: ['compact'], minInputFiles: 2 }, { wait: true, json: true }));
      assert.equal(m!.status, 'ok');
    });
    const after = await readAll();
    const compacted = checks.filter((c) => after.scans[c.name]!.metadataLocation !== before.scans[c.name]!.metadataLocation);
    assert.ok(compacted.length >= 3, `compaction committed new snapshots (${compacted.map((c) => c.name).join(', ')})`);
    const t0 = bronze[0]!.name;
    const res = await fetch(`${catalog.url}/v1/${warehouse}/namespaces/${ns}/tables/${t0}`, { headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } });
    assert.equal(res.status, 200, 'a changed table is sent again, not 304');
    assert.notEqual(res.headers.get('etag'), etag);

    // Its metrics endpoint counts the requests by route and status (the Grafana panel's source).
    const metricsUrl = /metrics on (\S+)/.exec(catalog.output())?.[1];
    assert.ok(metricsUrl, catalog.output());
    const exposition = await (await fetch(metricsUrl)).text();
    assert.match(exposition, /^coldtier_catalog_requests_total\{[^}]*status="200"[^}]*\} [1-9]/m);
    assert.match(exposition, /^coldtier_catalog_requests_total\{[^}]*status="403"[^}]*\} [1-9]/m);
  } finally {
    await catalog?.stop();
    await services.close();
  }
});
