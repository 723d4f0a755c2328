import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { startStack } from './devstack';
import { isPortFree } from './devstack/ports';
import { openClickHouse } from './clickhouse/client';
import { loadSettings, type Settings } from './config/settings';
import { createBronzeTable, createSilverAndGold, EXCHANGES, insertTrades } from './feed/synthetic';
import { createWorker, openServices } from './worker';
import { startOffload } from './cli/offload';
import { collectStatus, formatStatus } from './cli/status';
import { installLogging } from './logging';

export interface DemoOptions {
  dir: string;
  rows: number;
  keep: boolean;
}

/** Temporal's usual ports: the frontend and the Web UI. */
const TEMPORAL_PORT = 7233;
const UI_PORT = 8233;

/**
 * The embedded default, end to end with no configuration: real Temporal dev server (Web UI on 8233, or on a free port
 * when 8233 is taken — the address printed at the end is the real one), real Postgres,
 * embedded chDB with a synthetic feed, a local file warehouse, the worker in this process, one offload.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const dir = resolve(o.dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  installLogging('WARN');
  const log = (m: string) => console.log(`demo: ${m}`);
  log(`starting Temporal dev server and Postgres in ${dir} ...`);
  // Another demo, a local Temporal or a test run may hold the usual ports: then take free ones instead of failing.
  const temporal: { port?: number; uiPort?: number } = {};
  for (const [key, port, what] of [['port', TEMPORAL_PORT, 'Temporal frontend'], ['uiPort', UI_PORT, 'Web UI']] as const) {
    if (await isPortFree(port)) temporal[key] = port;
    else log(`port ${port} is taken: the ${what} gets a free port instead`);
  }
  const stack = await startStack({ dir: `${dir}/stack`, temporal, postgres: true, log });
  try {
    const settings: Settings = loadSettings({
      env: {
        TEMPORAL_ADDRESS: stack.temporal!.address,
        DATABASE_URL: stack.postgres!.url,
        CLICKHOUSE_URL: `chdb://${dir}/chdb`,
        ICEBERG_WAREHOUSE: `file://${dir}/warehouse`,
      },
      configPath: undefined,
      cwd: dir,
    });
    // Rows are inserted before the offload starts, so the late-data buffer is not needed here.
    for (const t of settings.tables) t.lateDataBufferSeconds = 0;

    const ch = await openClickHouse(settings.clickhouse);
    const sizes = { binance: o.rows, kraken: Math.ceil(o.rows / 10), coinbase: Math.ceil(o.rows / 4) };
    for (const ex of EXCHANGES) await createBronzeTable(ch, `bronze_trades_${ex}`);
    // silver is fed from bronze by materialized views, so create it before inserting; gold views roll silver up.
    await createSilverAndGold(ch);
    // Two days of event time, so the gold windows up to the daily one have closed.
    for (const ex of EXCHANGES) await insertTrades(ch, `bronze_trades_${ex}`, { rows: sizes[ex], exchange: ex, spreadSeconds: 2 * 86_400 });
    await ch.close();
    log(`generated ${Object.entries(sizes).map(([k, v]) => `${v} ${k}`).join(', ')} trades in chDB`);

    const services = await openServices(settings);
    try {
      const worker = await createWorker(settings, { services, identity: 'coldtier-demo' });
      const workflowId = `coldtier-offload-demo-${Date.now()}`;
      const result = await worker.runUntil(startOffload(settings, { wait: true, workflowId }));
      if (result?.status !== 'ok') process.exitCode = 1;
      console.log(`\n${formatStatus(await collectStatus(settings, services))}\n`);
      console.log(`Temporal Web UI:  ${stack.temporal!.uiUrl}/namespaces/default/workflows/${workflowId}`);
      console.log(`Iceberg tables:   ${dir}/warehouse/${settings.catalog.namespace}/ (catalog "${settings.catalog.name}" in ${stack.postgres!.url.replace(/:[^:@/]*@/, ':***@')})`);
      console.log(`Read them:        SELECT count() FROM icebergLocal('${dir}/warehouse/${settings.catalog.namespace}/bronze_trades_binance')  -- chDB / clickhouse-local`);
      // Issue 19: one query over both tiers through the federated view (coldtier federate --apply).
      await (await import('./cli/federate')).applyViews(settings, services);
      const federated = 'SELECT symbol, count() AS trades, toString(sum(quantity)) AS volume FROM default.bronze_trades_binance_all GROUP BY symbol ORDER BY symbol';
      console.log(`\nFederated query (hot ClickHouse + cold Iceberg, every row once):\n  ${federated}\n${(await services.ch.json<Record<string, unknown>>(federated)).map((r) => `  ${Object.values(r).join('\t')}`).join('\n')}`);
      if (o.keep) {
        console.log('\nthe stack keeps running; press Ctrl-C to stop');
        await new Promise<void>((res) => {
          process.once('SIGINT', res);
          process.once('SIGTERM', res);
        });
      } else {
        console.log('\n(run `npm run demo -- --keep` to keep the Web UI up after the run)');
      }
    } finally {
      await services.close();
    }
  } finally {
    await stack.stop();
  }
}
