// Why the federated view pins its boundary and its Iceberg snapshot at definition time (issue 19, README "Querying
// hot and cold together"): the evidence on the order in which ClickHouse loads Iceberg metadata and evaluates a scalar
// subquery. An offload commit is made to happen exactly while the boundary subquery runs: the subquery reads its
// value from a local HTTP endpoint (url()) that performs the commit before it answers. Deterministic: no timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, renameSync } from 'node:fs';
import type { OffloadWorkflowResult } from '../src/activities/types';
import { applyViews } from '../src/clickhouse/federated-views';
import { startOffload } from '../src/cli/offload';
import { readBoundary, type TierBoundary } from '../src/db/boundary';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, makeTestEnv } from './helpers/coldtier';

test('ClickHouse loads the Iceberg metadata before it evaluates a scalar subquery: a per-query boundary loses the rows of a commit made meanwhile, the pinned view does not', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_order_${tag}`)] });
  const table = env.settings.tables[0]!.name;
  const id = { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table };
  const services = await openServices(env.settings);
  const { ch, pool } = services;
  const server = createServer();
  try {
    await createBronzeTable(ch, table);
    const worker = await createWorker(env.settings, { services });
    const offload = async () => assert.equal(((await startOffload(env.settings, { wait: true, json: true })) as OffloadWorkflowResult).status, 'ok');
    let first: TierBoundary | undefined;
    let second: TierBoundary | undefined;
    await worker.runUntil(async () => {
      await insertTrades(ch, table, { rows: 1000, exchange: 'binance', spreadSeconds: 86_400 });
      await offload();
      first = await readBoundary(pool, id);
      await insertTrades(ch, table, { rows: 500, exchange: 'binance', spreadSeconds: 86_400 });
      await offload();
      second = await readBoundary(pool, id);
    });
    const [m1, m2] = [first!.metadataLocation!, second!.metadataLocation!];
    const path = (uri: string) => uri.slice('file://'.length);
    // Back to the state between the two commits; `commit()` then redoes the second one exactly as the offload made it
    // visible: its metadata file appears and the catalog row and watermark move in one transaction.
    const setCatalog = async (b: TierBoundary) => {
      await pool.query('UPDATE iceberg_tables SET metadata_location = $1 WHERE catalog_name = $2 AND table_namespace = $3 AND table_name = $4', [b.metadataLocation, id.catalog, id.namespace, id.table]);
      await pool.query('UPDATE coldtier_watermarks SET committed_to = $1, watermark_values = $1 WHERE catalog_name = $2 AND table_namespace = $3 AND table_name = $4', [JSON.stringify(b.key), id.catalog, id.namespace, id.table]);
    };
    const rollBack = async () => {
      if (existsSync(path(m2))) renameSync(path(m2), `${path(m2)}.hidden`);
      await setCatalog(first!);
    };
    const commit = async () => {
      if (existsSync(`${path(m2)}.hidden`)) renameSync(`${path(m2)}.hidden`, path(m2));
      await setCatalog(second!);
    };
    // The endpoint answers the boundary the catalog has at that moment. Its `commitAtCall`-th call (1-based) first
    // makes the second commit happen, so the commit lands exactly between two evaluations, or before the first.
    let calls = 0;
    let commitAtCall = 1;
    server.on('request', (_req, res) => {
      void (async () => {
        calls++;
        if (calls === commitAtCall) await commit();
        res.end(`${(calls >= commitAtCall ? second! : first!).key!.join(',')}\n`);
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/boundary`;
    const location = path(m1.slice(0, m1.lastIndexOf('/metadata/')));
    const unpinned = `icebergLocal('${location}/')`;
    const count = async (sql: string) => Number((await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM (${sql})`))[0]!.n);
    const boundary = `(SELECT (toDateTime64(c1, 6, 'UTC'), toInt64(c2)) FROM url('${url}', 'CSV', 'c1 String, c2 String'))`;
    const run = async (sql: string, at: number) => {
      await rollBack();
      assert.equal(await count(`SELECT * FROM ${unpinned}`), 1000, 'rolled back to the first commit');
      [calls, commitAtCall] = [0, at];
      return { n: await count(sql), calls };
    };

    // 1. Order: the commit happens inside the scalar subquery of a query over the Iceberg table function. The query
    //    counts 1500 when ClickHouse loads the Iceberg metadata after evaluating the subquery, 1000 when before.
    const order = await run(`SELECT sequence FROM ${unpinned} WHERE ${boundary}.2 > 0`, 1);
    assert.ok(order.calls >= 1, 'the commit happened during the query');
    assert.equal(order.n, 1000, 'the Iceberg metadata was loaded before the scalar subquery ran (the commit it made is not seen)');
    // 2. The per-query design: one boundary subquery filters both sides (as postgresql() or a dictionary would
    //    deliver it). A commit while the query is analysed: the Iceberg side keeps the snapshot it loaded, the boundary
    //    is the new one, and the rows between the two boundaries are in neither side.
    const perQuery = `SELECT sequence FROM ${unpinned} WHERE (ingested_at, sequence) <= ${boundary} UNION ALL SELECT sequence FROM ${table} WHERE (ingested_at, sequence) > ${boundary}`;
    for (const at of [1, 2]) assert.equal((await run(perQuery, at)).n, 1000, `commit at boundary read ${at}: 500 rows vanished`);

    // The pinned view built from the first commit's pair, queried while the second commit happens: every row once.
    const view = `\`default\`.\`${table}_all\``;
    for (const at of [1, 2]) {
      await rollBack();
      await applyViews(env.settings, services);
      [calls, commitAtCall] = [0, at];
      assert.equal(await count(`SELECT * FROM ${view} WHERE ${boundary}.2 > 0`), 1500, 'the pinned pair answers for one instant whatever commits meanwhile');
      assert.ok(calls >= at, 'the commit happened during the query');
      await commit();
    }
    await applyViews(env.settings, services);
    assert.equal(await count(`SELECT * FROM ${view}`), 1500);
  } finally {
    server.close();
    await services.close();
  }
});
