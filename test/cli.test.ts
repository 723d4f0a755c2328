import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { failedTables } from '../src/cli/offload';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { bronzeTable, cliEnv, makeTestEnv, openChdb } from './helpers/coldtier';

const BIN = join(import.meta.dirname, '..', 'bin', 'coldtier.mjs');

function cli(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function waitForLine(child: ChildProcess, pattern: RegExp, ms = 120_000): Promise<void> {
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not print ${pattern} in ${ms} ms:\n${seen}`)), ms);
    const on = (b: Buffer) => {
      seen += b.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${seen}`)));
  });
}

test('coldtier worker + offload --wait print the result; status --json shows the new watermark', async () => {
  const env = await makeTestEnv({ warehouse: 's3', tables: (tag) => [bronzeTable(`bronze_trades_c${tag}`)] });
  const table = env.settings.tables[0]!.name;
  const configPath = join(env.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: env.settings.tables }));
  const vars = cliEnv(env, configPath);

  const ch = await openChdb(env);
  await createBronzeTable(ch, table);
  await insertTrades(ch, table, { rows: 1234, exchange: 'kraken' });
  const [last] = await ch.json<{ ts: string; seq: string }>(`SELECT toString(max(ingested_at)) AS ts, toString(max(sequence)) AS seq FROM ${table}`);
  await ch.close(); // chDB allows one process per data directory: hand it to the worker

  const before = JSON.parse(cli(['status', '--json'], vars).stdout) as { table: string; watermark: string[] | null; pendingRows: number }[];
  assert.equal(before[0]!.watermark, null);
  assert.equal(before[0]!.pendingRows, 1234);

  const worker = spawn(process.execPath, [BIN, 'worker', '--identity', `cli-test-${env.tag}`], { env: vars, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForLine(worker, /polling task queue/);
    const out = cli(['offload', '--wait'], vars);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /started offload workflow coldtier-offload-manual-/);
    // Numbers grouped and right-aligned, the watermark time in UTC with the zone.
    assert.match(out.stdout, new RegExp(`${table}\\s+committed\\s+1,234\\s+\\d+\\s+[\\d,]+\\s+\\d+\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d+ UTC #1234`));
    assert.match(out.stdout, /ok: 1,234 rows/);
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }

  const status = JSON.parse(cli(['status', '--json'], vars).stdout) as { table: string; watermark: string[]; pendingRows: number; snapshots: number; rows: number; files: number }[];
  assert.deepEqual(status[0]!.watermark, [last!.ts, last!.seq]);
  assert.equal(status[0]!.pendingRows, 0);
  assert.equal(status[0]!.snapshots, 1);
  assert.equal(status[0]!.rows, 1234);
  assert.ok(status[0]!.files >= 1);
});

test('bad input gets a one-line error naming the setting, never a bare stack trace', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_e${tag}`)] });
  const configPath = join(env.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: env.settings.tables }));
  const vars = cliEnv(env, configPath);

  const unknown = cli(['offload', '--bogus'], vars);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown option '--bogus'/);

  const pg = cli(['status'], { ...vars, DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/db' });
  assert.equal(pg.code, 1);
  assert.match(pg.stderr, /^coldtier: cannot reach Postgres at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db .*check DATABASE_URL/m);
  assert.doesNotMatch(pg.stderr, /hunter2|\n\s+at /);

  // A server that answers but refuses the login is told apart from one that cannot be reached.
  const pgAuth = cli(['status'], { ...vars, DATABASE_URL: vars.DATABASE_URL!.replace(/\/\/[^@]*@/, '//nosuchuser:wrong@') });
  assert.equal(pgAuth.code, 1);
  assert.match(pgAuth.stderr, /^coldtier: Postgres at postgres:\/\/nosuchuser:\*\*\*@\S+ refused the credentials \(.*\); check the user and password in DATABASE_URL$/m);
  assert.doesNotMatch(pgAuth.stderr, /cannot reach|wrong/);
  const s3Auth = cli(['status'], { ...vars, ICEBERG_WAREHOUSE: env.settings.warehouse.replace('file://', 's3://coldtier/x'), AWS_ACCESS_KEY_ID: 'nosuchkey', AWS_SECRET_ACCESS_KEY: 'nosuchsecret' });
  assert.equal(s3Auth.code, 1);
  assert.match(s3Auth.stderr, /^coldtier: S3 at s3:\/\/\S+ refused the credentials \(.*\); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY$/m);

  const temporal = cli(['offload'], { ...vars, TEMPORAL_ADDRESS: '127.0.0.1:1' });
  assert.equal(temporal.code, 1);
  assert.match(temporal.stderr, /^coldtier: cannot reach Temporal at 127\.0\.0\.1:1 .*check TEMPORAL_ADDRESS/m);

  const ch = cli(['status'], { ...vars, CLICKHOUSE_URL: 'http://127.0.0.1:1' });
  assert.equal(ch.code, 1);
  assert.match(ch.stderr, /^coldtier: cannot reach ClickHouse at http:\/\/127\.0\.0\.1:1 .*check CLICKHOUSE_URL/m);

  const s3 = cli(['status'], { ...vars, ICEBERG_WAREHOUSE: 's3://coldtier-nowhere/x', S3_ENDPOINT: 'http://127.0.0.1:1' });
  assert.equal(s3.code, 1);
  assert.match(s3.stderr, /^coldtier: cannot reach S3 at s3:\/\/coldtier-nowhere\/x .*check ICEBERG_WAREHOUSE/m);

  // A missing source table: status reports it per table, naming the table and the fix, and exits 2.
  const missing = cli(['status', '--json'], vars);
  assert.equal(missing.code, 2, missing.stderr);
  const rows = JSON.parse(missing.stdout) as { error?: string }[];
  assert.match(rows[0]!.error ?? '', /clickhouse source default\.bronze_trades_e\w+ of table bronze_trades_e\w+ does not exist; create it, or fix "source"/);
});

test('offload --wait of a table whose source is missing: a one-line error naming the table and the fix, exit code 2', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_m${tag}`), bronzeTable(`bronze_trades_n${tag}`)] });
  const table = env.settings.tables[0]!.name;
  const configPath = join(env.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: env.settings.tables }));
  const vars = cliEnv(env, configPath);
  const reason = `clickhouse source default\\.${table} of table ${table} does not exist; create it, or fix "source" of ${table} in the table registry`;

  const worker = spawn(process.execPath, [BIN, 'worker', '--identity', `cli-test-${env.tag}`], { env: vars, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForLine(worker, /polling task queue/);
    const out = cli(['offload', '--wait', '--tables', table], vars);
    assert.equal(out.code, 2, `exit code 2 when a table failed (stderr: ${out.stderr})`);
    assert.equal(out.stderr.trim().split('\n').length, 1, `one line: ${out.stderr}`);
    assert.match(out.stderr.trim(), new RegExp(`^coldtier: offload coldtier-offload-manual-\\S+: every table failed: ${table}: ${reason}$`));
    assert.doesNotMatch(out.stderr, /Workflow execution failed|\n\s+at /);
    // The per-table result is printed as for a partial run: the reason shortened in the table, complete below it.
    assert.match(out.stdout, new RegExp(`^${table}\\s+failed\\s+0\\s+0\\s+0\\s+-\\s+-\\s+\\S+ ms\\s+clickhouse source default\\.${table} of table .{10,}…$`, 'm'));
    assert.match(out.stdout, new RegExp(`^${table}: ${reason}$`, 'm'));
    assert.match(out.stdout, /^failed: 0 rows in /m);

    // Without --wait, --json prints the workflow id (and nothing else) as JSON.
    const started = cli(['offload', '--json', '--tables', table], vars);
    assert.equal(started.code, 0, started.stderr);
    const id = JSON.parse(started.stdout) as { workflowId: string; runId: string; taskQueue: string };
    assert.match(id.workflowId, /^coldtier-offload-manual-/);
    assert.equal(id.taskQueue, env.settings.temporal.taskQueue);

    const json = cli(['offload', '--wait', '--json', '--tables', table], vars);
    assert.equal(json.code, 2, json.stderr);
    const result = JSON.parse(json.stdout) as { status: string; tables: { table: string; status: string; reason: string }[] };
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.tables.map((t) => [t.table, t.status]), [[table, 'failed']]);
    assert.match(result.tables[0]!.reason, new RegExp(`^${reason}$`));
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
});

test('failedTables splits the workflow\'s every-table-failed message per table, reasons with "; " included', () => {
  const msg = 'offload wf-1: every table failed: a: source x of a does not exist; create it, or fix "source"; b_c: boom; really';
  assert.deepEqual(failedTables(msg, ['a', 'b_c']).map((t) => [t.table, t.status, t.reason]), [
    ['a', 'failed', 'source x of a does not exist; create it, or fix "source"'],
    ['b_c', 'failed', 'boom; really'],
  ]);
  assert.deepEqual(failedTables(msg, ['b_c', 'a']), [], 'other tables (or order) than the message lists: no guess');
  assert.deepEqual(failedTables('something else', ['a']), []);
});
