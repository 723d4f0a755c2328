import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MAINTENANCE_INPUT } from '../schedules/definitions';
import { loadSettings, type Settings } from '../config/settings';
import { openServices, createWorker } from '../worker';
import { collectStatus, formatStatus } from './status';
import { startOffload } from './offload';
import { maintenanceExitCode, parseStages, startBackfill, startMaintenance } from './maintain';
import type { MaintenanceStage, MaintenanceWorkflowInput } from '../activities/types';
import { installLogging } from '../logging';
import { startMetricsServer } from '../metrics/server';
import { metrics } from '../metrics/registry';
import { allLags, allTtls } from './lag';
import { registerScheduleCommands } from './schedules';
import { serveCatalog } from './catalog';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('coldtier')
  .version(version, '-V, --version', 'print the coldtier version')
  .description('Offloads trades from ClickHouse (hot tier) into Apache Iceberg tables (cold tier) with Temporal, and keeps them healthy.')
  .option('-c, --config <path>', 'config file (YAML/JSON); default ./coldtier.config.yaml or $COLDTIER_CONFIG')
  .showHelpAfterError('(run with --help for usage)');

const settings = (): Settings => loadSettings(program.opts<{ config?: string }>().config ? { configPath: program.opts<{ config: string }>().config } : {});
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
/** A number option: "abc" is refused with the value named (commander would pass NaN on). */
const num = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`must be a number, got ${JSON.stringify(v)}`);
  return n;
};
const d = MAINTENANCE_INPUT;
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
  .addOption(new Option('--catalog-port <n>', 'also serve the read-only Iceberg REST catalog on this port (see coldtier catalog)').argParser(port))
  .action(async (o: { identity?: string; metricsPort?: number; catalogPort?: number }) => {
    const s = settings();
    const server = o.metricsPort === undefined ? undefined : await startMetricsServer({ port: o.metricsPort });
    const log = installLogging('INFO', server ? { sdkMetricsBindAddress: server.sdkBindAddress } : {});
    if (server) console.log(`coldtier worker metrics on ${server.url}`);
    const catalog = o.catalogPort === undefined ? undefined : await serveCatalog(s, { port: o.catalogPort, log: (err, msg) => log.error({ err }, msg) });
    if (catalog) console.log(`coldtier Iceberg REST catalog on ${catalog.url}`);
    const services = await openServices(s);
    const worker = await createWorker(s, { services, ...(o.identity ? { identity: o.identity } : {}) });
    if (server) metrics.measureLag((into) => allLags(s, services.pool, services.ch, (table, err) => console.error(`coldtier: lag of ${table} not measured: ${(err as Error).message}`), (t, v) => into.set(t, v)).catch((err: Error) => console.error(`coldtier: lag not measured: ${err.message}`)));
    if (server) metrics.measureTtl((into) => allTtls(s, services.pool, services.ch, (table, err) => console.error(`coldtier: TTL headroom of ${table} not measured: ${(err as Error).message}`), (t, v) => into.set(t, v)).catch((err: Error) => console.error(`coldtier: TTL headroom not measured: ${err.message}`)));
    console.log(`coldtier worker polling task queue ${s.temporal.taskQueue} on ${s.temporal.address} (namespace ${s.temporal.namespace})`);
    try {
      await worker.run();
    } finally {
      await Promise.all([services.close(), server?.close(), catalog?.closeAll()]);
    }
  });

program
  .command('catalog')
  .description('serve the read-only Iceberg REST catalog over the catalog in Postgres, until SIGINT/SIGTERM')
  .addOption(new Option('--port <n>', 'listen port (default: catalogServer.port, 8181)').argParser(port))
  .addOption(new Option('--metrics-port <n>', 'serve Prometheus metrics on http://0.0.0.0:<n>/metrics').argParser(port))
  .action(async (o: { port?: number; metricsPort?: number }) => {
    const s = settings();
    const metrics = o.metricsPort === undefined ? undefined : await startMetricsServer({ port: o.metricsPort });
    const log = installLogging('INFO', metrics ? { sdkMetricsBindAddress: metrics.sdkBindAddress } : {});
    const catalog = await serveCatalog(s, { ...(o.port !== undefined ? { port: o.port } : {}), log: (err, msg) => log.error({ err }, msg) });
    const warehouse = s.catalogServer.warehouse ?? s.catalog.name;
    console.log(`coldtier Iceberg REST catalog on ${catalog.url} (warehouse ${warehouse}, catalog ${s.catalog.name})${metrics ? `, metrics on ${metrics.url}` : ''}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await Promise.all([catalog.closeAll(), metrics?.close()]);
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
      // A table whose status could not be read is something to look at: scripts and probes see it in the exit code.
      if (rows.some((r) => r.error !== undefined)) process.exitCode = 2;
    } finally {
      await services.close();
    }
  });

program
  .command('maintain')
  .description('start a maintenance run now: compact, expire snapshots, remove orphan files, audit')
  .option('--tables <a,b>', 'only these tables (default: all configured)', list)
  .option('--stages <list>', `stages in order (default ${d.stages.join(',')})`, parseStages)
  .option('--dry-run', 'report what would be done; write nothing (the audit still runs and logs)')
  .option('--target-file-size-mb <n>', `compaction target file size (default ${d.targetFileSizeMb})`, num)
  .option('--min-input-files <n>', `compact a partition only with at least this many small files (default ${d.minInputFiles})`, num)
  .option('--snapshot-max-age-hours <n>', `expire snapshots older than this (default ${d.snapshotMaxAgeHours})`, num)
  .option('--snapshot-retain-last <n>', `always keep this many newest snapshots (default ${d.snapshotRetainLast})`, num)
  .option('--orphan-min-age-hours <n>', `delete unreferenced files older than this (at least 24) (default ${d.orphanMinAgeHours})`, num)
  .option('--audit-window-hours <n>', `audit the whole hours before the window end (default ${d.auditWindowHours})`, num)
  .option('--audit-buffer-hours <n>', `the window ends this many hours before now (default ${d.auditBufferHours}: late data, offload catching up)`, num)
  .option('--audit-window-end <iso>', 'end of the audit window, truncated to the hour (default: now − --audit-buffer-hours)')
  .option('--wait', 'wait and print per table: files before/after, bytes, snapshots expired, files deleted, audit status')
  .option('--json', 'print the result as JSON (with --wait)')
  .action(async (o: { tables?: string[]; stages?: MaintenanceStage[]; dryRun?: boolean; targetFileSizeMb?: number; minInputFiles?: number; snapshotMaxAgeHours?: number; snapshotRetainLast?: number; orphanMinAgeHours?: number; auditWindowHours?: number; auditBufferHours?: number; auditWindowEnd?: string; wait?: boolean; json?: boolean }) => {
    if (o.orphanMinAgeHours !== undefined && !(o.orphanMinAgeHours >= 24)) throw new Error(`--orphan-min-age-hours ${o.orphanMinAgeHours} is under 24: files that young may belong to a write still in flight`);
    // The workflow checks these too, but only once it runs: refuse them here, before anything is started.
    const checks: [string, number | undefined, (n: number) => boolean, string][] = [
      ['--target-file-size-mb', o.targetFileSizeMb, (n) => n > 0, 'a positive number'],
      ['--min-input-files', o.minInputFiles, (n) => Number.isInteger(n) && n >= 1, 'an integer of at least 1'],
      ['--snapshot-max-age-hours', o.snapshotMaxAgeHours, (n) => n >= 0, '0 or more'],
      ['--snapshot-retain-last', o.snapshotRetainLast, (n) => Number.isInteger(n) && n >= 1, 'an integer of at least 1 (the newest snapshot is always kept)'],
      ['--audit-window-hours', o.auditWindowHours, (n) => n >= 1, 'at least 1'],
      ['--audit-buffer-hours', o.auditBufferHours, (n) => n >= 0, '0 or more'],
    ];
    for (const [flag, value, ok, what] of checks) if (value !== undefined && !ok(value)) throw new Error(`${flag} ${value} is invalid: it must be ${what}`);
    const { wait, json, ...rest } = o;
    const input = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as MaintenanceWorkflowInput;
    const report = await startMaintenance(settings(), input, { wait: Boolean(wait), json: Boolean(json) });
    if (report) process.exitCode = maintenanceExitCode(report);
  });

for (const [name, reason, what] of [
  ['backfill', 'backfill', 're-offload an event-time window of one table; rows already in Iceberg are not added again'],
  ['repair', 'repair', 're-offload the hours an audit found missing and remove duplicated rows (backfill recorded as a repair, plus one delete commit)'],
] as const) {
  const cmd = program.command(name).description(what).requiredOption('--table <name>', 'the table (required)');
  if (name === 'backfill') cmd.requiredOption('--from <iso>', 'window start, inclusive (required)').requiredOption('--to <iso>', 'window end, exclusive (required)');
  else cmd.requiredOption('--window <from/to>', 'ISO window, e.g. 2026-11-21T00:00:00Z/2026-11-22T00:00:00Z, as printed by the audit (required)');
  cmd
    .option('--no-wait', 'start it and return')
    .option('--json', 'print the result as JSON')
    .action(async (o: { table: string; from?: string; to?: string; window?: string; wait: boolean; json?: boolean }) => {
      const [from, to] = o.window ? (o.window.split('/') as [string, string | undefined]) : [o.from!, o.to];
      if (to === undefined) throw new Error(`--window must be FROM/TO (two ISO times separated by "/"), got ${JSON.stringify(o.window)}`);
      await startBackfill(settings(), { table: o.table, from, to, reason }, { wait: o.wait, json: Boolean(o.json) });
    });
}

program
  .command('feed')
  .description('create the ClickHouse source tables of the default registry (bronze feeds, silver, gold views) if missing, and insert synthetic trades')
  .addOption(new Option('--rows <n>', 'trades for binance (kraken gets a tenth, coinbase a quarter); 0 creates the tables only').default(10_000).argParser(num))
  .action(async (o: { rows: number }) => {
    const { generateFeed } = await import('./feed');
    const sizes = await generateFeed(settings(), o.rows);
    console.log(`feed: source tables ready; inserted ${Object.entries(sizes).map(([k, v]) => `${v} ${k}`).join(', ')} trades`);
  });

program
  .command('demo')
  .description('start a local Temporal dev server, Postgres and embedded chDB with a synthetic trade feed, run one offload into a local warehouse, print the result')
  .option('--dir <path>', 'working directory for the demo stack', '.coldtier/demo')
  .addOption(new Option('--rows <n>', 'rows of synthetic trades for binance (kraken and coinbase get fewer)').default(200_000).argParser(num))
  .option('--keep', 'keep the stack (and the Web UI) running until Ctrl-C')
  .action(async (o: { dir: string; rows: number; keep?: boolean }) => {
    const { runDemo } = await import('../demo');
    await runDemo({ dir: o.dir, rows: o.rows, keep: Boolean(o.keep) });
  });

program
  .command('federate')
  .description('create (or print, or check) one ClickHouse view per table, <database>.<table>_all, over the hot and the cold tier')
  .option('--tables <a,b>', 'only these tables (default: all configured)', list)
  .option('--print', 'print the statements instead of running them (S3 keys masked)')
  .option('--apply', 'create or replace the views (the default)')
  .option('--check', 'compare count and fingerprint of each view with the expected union; exit 1 on a difference')
  .option('--named-collection <name>', 'an existing ClickHouse named collection with the S3 keys (default: coldtier_s3, kept from the settings)')
  .action(async (o: { tables?: string[]; print?: boolean; apply?: boolean; check?: boolean; namedCollection?: string }) => {
    const { runFederate } = await import('./federate-command');
    process.exitCode = await runFederate(settings(), o);
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
