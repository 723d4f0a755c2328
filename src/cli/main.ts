import { Command, InvalidArgumentError, Option } from 'commander';
import { loadSettings, type Settings } from '../config/settings';
import { openServices, createWorker } from '../worker';
import { collectStatus, formatStatus } from './status';
import { startOffload } from './offload';
import { installLogging } from '../logging';
import { startMetricsServer } from '../metrics/server';
import { registerScheduleCommands } from './schedules';

const program = new Command('coldtier')
  .description('Offloads trades from ClickHouse (hot tier) into Apache Iceberg tables (cold tier) with Temporal, and keeps them healthy.')
  .option('-c, --config <path>', 'config file (YAML/JSON); default ./coldtier.config.yaml or $COLDTIER_CONFIG')
  .showHelpAfterError('(run with --help for usage)');

const settings = (): Settings => loadSettings(program.opts<{ config?: string }>().config ? { configPath: program.opts<{ config: string }>().config } : {});
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new InvalidArgumentError('must be a TCP port (1-65535)');
  return n;
};

program
  .command('worker')
  .description('run the Temporal worker (offload and maintenance activities) until SIGINT/SIGTERM')
  .option('--identity <name>', 'worker identity shown in workflow history')
  .addOption(new Option('--metrics-port <n>', 'serve Prometheus metrics (Temporal SDK + coldtier) on http://0.0.0.0:<n>/metrics').argParser(port))
  .action(async (o: { identity?: string; metricsPort?: number }) => {
    const s = settings();
    const metrics = o.metricsPort === undefined ? undefined : await startMetricsServer({ port: o.metricsPort });
    installLogging('INFO', metrics ? { sdkMetricsBindAddress: metrics.sdkBindAddress } : {});
    if (metrics) console.log(`coldtier worker metrics on ${metrics.url}`);
    const services = await openServices(s);
    const worker = await createWorker(s, { services, ...(o.identity ? { identity: o.identity } : {}) });
    console.log(`coldtier worker polling task queue ${s.temporal.taskQueue} on ${s.temporal.address} (namespace ${s.temporal.namespace})`);
    try {
      await worker.run();
    } finally {
      await services.close();
    }
  });

program
  .command('offload')
  .description('start an offload workflow now')
  .option('--tables <a,b>', 'only these tables (default: all configured)', list)
  .option('--wait', 'wait for the result and print rows, files, snapshot and new watermark per table')
  .option('--json', 'print the result as JSON (with --wait)')
  .action(async (o: { tables?: string[]; wait?: boolean; json?: boolean }) => {
    const result = await startOffload(settings(), { ...(o.tables ? { tables: o.tables } : {}), wait: Boolean(o.wait), json: Boolean(o.json) });
    if (result && result.status !== 'ok') process.exitCode = 2;
  });

program
  .command('status')
  .description('per table: watermark, lag, pending rows, Iceberg snapshots, files and rows')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const s = settings();
    const services = await openServices(s);
    try {
      const rows = await collectStatus(s, services);
      console.log(o.json ? JSON.stringify(rows, null, 2) : formatStatus(rows));
    } finally {
      await services.close();
    }
  });

program
  .command('demo')
  .description('start a local Temporal dev server, Postgres and embedded chDB with a synthetic trade feed, run one offload into a local warehouse, print the result')
  .option('--dir <path>', 'working directory for the demo stack', '.coldtier/demo')
  .addOption(new Option('--rows <n>', 'rows of synthetic trades for binance (kraken and coinbase get fewer)').default(200_000).argParser((v) => Number(v)))
  .option('--keep', 'keep the stack (and the Web UI) running until Ctrl-C')
  .action(async (o: { dir: string; rows: number; keep?: boolean }) => {
    const { runDemo } = await import('../demo');
    await runDemo({ dir: o.dir, rows: o.rows, keep: Boolean(o.keep) });
  });

registerScheduleCommands(program, settings);

function report(err: unknown): never {
  const e = err as Error;
  const message = e?.message ?? String(err);
  console.error(`coldtier: ${message}`);
  if (process.env.DEBUG) console.error(e?.stack);
  process.exit(1);
}

program.parseAsync(process.argv).catch(report);
