import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { OffloadWorkflowResult } from '../src/activities/types';
import { openClickHouse } from '../src/clickhouse/client';
import { startChdbGateway } from '../src/clickhouse/chdb-gateway';
import { defaultTables } from '../src/config/tables';
import { openPool } from '../src/db/pool';
import { readWatermark } from '../src/db/watermarks';
import { createBronzeTable, createSilverAndGold, EXCHANGES, insertTrades } from '../src/feed/synthetic';
import { connectClient } from '../src/temporal/connection';
import { cliEnv, fingerprint, icebergFunction, makeTestEnv } from './helpers/coldtier';
import { spawnWorker, type WorkerProcess } from './helpers/processes';

test('worker processes: SIGKILL mid-offload loses nothing; two workers share a ten-table cycle and a fanned-out catch-up', async () => {
  const env = await makeTestEnv({
    warehouse: 's3',
    tables: () =>
      defaultTables.map((t) =>
        t.layer === 'gold' ? t : { ...t, lateDataBufferSeconds: 0, batchRows: 20_000, fanOutBatches: t.name === 'bronze_trades_binance' ? 0 : 8 },
      ),
  });
  // chDB locks its directory to one process; the gateway serves it over ClickHouse's HTTP interface to all workers.
  const gateway = await startChdbGateway({ path: env.chdbPath });
  env.settings.clickhouse.url = gateway.url;
  const configPath = join(env.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: env.settings.tables }));
  const vars = cliEnv(env, configPath);
  const ch = await openClickHouse(env.settings.clickhouse);
  const pool = await openPool(env.settings.databaseUrl);
  const client = await connectClient(env.settings.temporal);
  const workers: WorkerProcess[] = [];
  const queue = env.settings.temporal.taskQueue;
  try {
    for (const ex of EXCHANGES) await createBronzeTable(ch, `bronze_trades_${ex}`);
    await createSilverAndGold(ch);
    await insertTrades(ch, 'bronze_trades_binance', { rows: 400_000, exchange: 'binance', spreadSeconds: 86_400 });

    // 1. SIGKILL the worker in the middle of a large bronze offload (20 batches), then start another.
    workers.push(await spawnWorker(vars, `w1-${env.tag}`));
    const id = { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table: 'bronze_trades_binance' };
    const run = await client.workflow.start('offloadWorkflow', { taskQueue: queue, workflowId: `kill-${env.tag}`, args: [{ tables: ['bronze_trades_binance'], heartbeatTimeoutSeconds: 5 }] });
    let offloaded = 0;
    for (let i = 0; i < 1200 && offloaded === 0; i++) {
      offloaded = Number((await readWatermark(pool, id))?.rowsOffloaded ?? 0);
      if (offloaded === 0) await new Promise((r) => setTimeout(r, 50));
    }
    await workers[0]!.kill('SIGKILL');
    assert.ok(offloaded > 0 && offloaded < 400_000, `killed mid-offload (after ${offloaded} rows)`);
    workers.push(await spawnWorker(vars, `w2-${env.tag}`));
    const killed = (await run.result()) as OffloadWorkflowResult;
    assert.equal(killed.status, 'ok');
    assert.equal(killed.tables[0]!.rows, 400_000, 'the retried activity reports its earlier commits too');
    const fp = await fingerprint(ch, icebergFunction(env, 'bronze_trades_binance'));
    assert.equal(fp.n, '400000');
    assert.equal(fp.keys, '400000', 'no duplicates');
    assert.deepEqual(fp, await fingerprint(ch, 'bronze_trades_binance'));

    // 2. Two worker processes on one task queue share a ten-table cycle.
    workers.push(await spawnWorker(vars, `w3-${env.tag}`));
    for (const ex of EXCHANGES) await insertTrades(ch, `bronze_trades_${ex}`, { rows: 30_000, exchange: ex, spreadSeconds: 2 * 86_400, seed: 3 });
    const cycle = await client.workflow.start('offloadWorkflow', { taskQueue: queue, workflowId: `two-${env.tag}`, args: [{}] });
    const result = (await cycle.result()) as OffloadWorkflowResult;
    assert.equal(result.status, 'ok', JSON.stringify(result.tables.filter((t) => t.status === 'failed')));
    const identities = new Set<string>();
    for (const e of (await cycle.fetchHistory()).events ?? []) {
      if (e.activityTaskStartedEventAttributes?.identity) identities.add(e.activityTaskStartedEventAttributes.identity);
    }
    assert.deepEqual([...identities].sort(), [`w2-${env.tag}`, `w3-${env.tag}`], 'both workers ran activities');
    for (const ex of EXCHANGES) {
      const t = `bronze_trades_${ex}`;
      assert.deepEqual(await fingerprint(ch, icebergFunction(env, t)), await fingerprint(ch, t), t);
    }
    assert.deepEqual(await fingerprint(ch, icebergFunction(env, 'silver_trades'), 'silver'), await fingerprint(ch, 'silver_trades', 'silver'));

    // 3. A large catch-up fans out into range writes on both workers and lands as one commit.
    await insertTrades(ch, 'bronze_trades_coinbase', { rows: 300_000, exchange: 'coinbase', spreadSeconds: 2 * 86_400, seed: 4 });
    const fan = await client.workflow.start('offloadWorkflow', { taskQueue: queue, workflowId: `fan-${env.tag}`, args: [{ tables: ['bronze_trades_coinbase'] }] });
    const fanned = ((await fan.result()) as OffloadWorkflowResult).tables[0]!;
    assert.equal(fanned.status, 'committed');
    assert.equal(fanned.rows, 300_000);
    assert.equal(fanned.commits, 1);
    const writers = new Set<string>();
    const events = (await fan.fetchHistory()).events ?? [];
    const scheduled = new Map<string, string>();
    for (const e of events) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a?.activityType?.name) scheduled.set(String(e.eventId), a.activityType.name);
      const st = e.activityTaskStartedEventAttributes;
      if (st?.identity && scheduled.get(String(st.scheduledEventId)) === 'writeRange') writers.add(st.identity);
    }
    assert.equal(writers.size, 2, `range writes ran on both workers: ${[...writers].join(', ')}`);
    const coinbase = await fingerprint(ch, icebergFunction(env, 'bronze_trades_coinbase'));
    assert.equal(coinbase.keys, coinbase.n);
    assert.deepEqual(coinbase, await fingerprint(ch, 'bronze_trades_coinbase'));
  } finally {
    for (const w of workers) await w.kill('SIGTERM');
    await client.connection.close();
    await pool.end();
    await ch.close();
    await gateway.close();
  }
});
