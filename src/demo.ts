import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startChdbGateway } from './clickhouse/chdb-gateway';
import { writeDemoEnv } from './devstack/demo-env';
import { startStack } from './devstack';
import { isPortFree } from './devstack/ports';
import { loadSettings, type Settings } from './config/settings';
import { createWorker, openServices } from './worker';
import { startOffload } from './cli/offload';
import { generateFeed } from './cli/feed';
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
 * embedded chDB (behind its HTTP gateway) with a synthetic feed, a local file warehouse, the worker in this process,
 * one offload. With keep, the worker and the stack stay up until SIGINT/SIGTERM, and `<dir>/env` holds the settings
 * for a second shell.
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
  // The CLI, the worker and a second shell share the embedded ClickHouse through this HTTP gateway: chDB itself
  // allows one process per data directory.
  const gateway = await startChdbGateway({ path: `${dir}/chdb` }).catch(async (err: unknown) => {
    await stack.stop();
    throw err;
  });
  try {
    const env = {
      TEMPORAL_ADDRESS: stack.temporal!.address,
      DATABASE_URL: stack.postgres!.url,
      CLICKHOUSE_URL: gateway.url,
      ICEBERG_WAREHOUSE: `file://${dir}/warehouse`,
    };
    const settings: Settings = loadSettings({ env, configPath: undefined, cwd: dir });
    const configPath = `${dir}/coldtier.config.yaml`;
    // Rows are inserted before the offload starts, so the late-data buffer is not needed here.
    for (const t of settings.tables) t.lateDataBufferSeconds = 0;
    // The same registry for the CLI in a second shell (COLDTIER_CONFIG in the env file).
    writeFileSync(configPath, stringify({ tables: settings.tables }));
    const sizes = await generateFeed(settings, o.rows);
    log(`generated ${Object.entries(sizes).map(([k, v]) => `${v} ${k}`).join(', ')} trades in chDB`);

    const services = await openServices(settings);
    try {
      const worker = await createWorker(settings, { services, identity: 'coldtier-demo' });
      // With --keep the worker runs until Ctrl-C (it is what keeps the process, and applied schedules, alive);
      // without, only for the one offload.
      const running = o.keep ? worker.run() : null;
      const workflowId = `coldtier-offload-demo-${Date.now()}`;
      const offload = startOffload(settings, { wait: true, workflowId });
      const result = running ? await Promise.race([offload, running.then(() => null)]) : await worker.runUntil(offload);
      if (result?.status !== 'ok') process.exitCode = 1;
      console.log(`\n${formatStatus(await collectStatus(settings, services))}\n`);
      console.log(`Temporal Web UI:  ${stack.temporal!.uiUrl}/namespaces/default/workflows/${workflowId}`);
      console.log(`Iceberg tables:   ${dir}/warehouse/${settings.catalog.namespace}/ (catalog "${settings.catalog.name}" in ${stack.postgres!.url.replace(/:[^:@/]*@/, ':***@')})`);
      console.log(`Read them:        SELECT count() FROM icebergLocal('${dir}/warehouse/${settings.catalog.namespace}/bronze_trades_binance')  -- chDB / clickhouse-local`);
      // Issue 19: one query over both tiers through the federated view (coldtier federate --apply).
      await (await import('./clickhouse/federated-views')).applyViews(settings, services);
      const federated = 'SELECT symbol, count() AS trades, toString(sum(quantity)) AS volume FROM default.bronze_trades_binance_all GROUP BY symbol ORDER BY symbol';
      console.log(`\nFederated query (hot ClickHouse + cold Iceberg, every row once):\n  ${federated}\n${(await services.ch.json<Record<string, unknown>>(federated)).map((r) => `  ${Object.values(r).join('\t')}`).join('\n')}`);
      if (running) {
        const envFile = join(dir, 'env');
        writeDemoEnv(envFile, { ...env, COLDTIER_CONFIG: configPath });
        console.log(`\nFrom another shell:  source ${envFile}`);
        console.log('  then any command, e.g.  npx coldtier status   npx coldtier schedules apply   npx coldtier offload --wait');
        console.log(`the stack and a worker on task queue ${settings.temporal.taskQueue} keep running; press Ctrl-C to stop`);
        const signalled = new Promise<NodeJS.Signals>((res) => {
          process.once('SIGINT', () => res('SIGINT'));
          process.once('SIGTERM', () => res('SIGTERM'));
        });
        await Promise.race([signalled, running]);
        log('stopping the worker, Temporal and Postgres ...');
        // The Temporal runtime shuts its workers down on SIGINT/SIGTERM by itself; shut down only if it has not.
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch((err: unknown) => log(`worker: ${(err as Error).message}`));
        rmSync(envFile, { force: true });
      } else {
        console.log('\n(run `npm run demo -- --keep` to keep the stack, a worker and the Web UI up, for a second shell)');
      }
    } finally {
      await services.close();
    }
  } finally {
    await gateway.close();
    await stack.stop();
  }
  if (o.keep) log('stopped');
}
