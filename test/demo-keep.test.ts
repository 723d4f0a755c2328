// The operator's first hour (issue 17): `npm run demo -- --keep` stays up with a worker, writes an env file that a
// second process uses for every CLI command (status, schedules apply, a scheduled run that completes), and Ctrl-C
// (SIGINT to its process group, as a terminal sends it) stops everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parseDemoEnv } from '../src/devstack/demo-env';
import { stackDir, uniqueName } from './helpers/stack';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'coldtier.mjs');
/** How long the demo must stay up, counted from when it said it keeps running. */
const UP_MS = 90_000;

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port, false when it is refused. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

test('npm run demo -- --keep stays up with a worker; its env file serves a second process; SIGINT stops everything', { timeout: 900_000 }, async () => {
  const dir = join(stackDir(), uniqueName('demo-keep'));
  const child = spawn('npm', ['run', 'demo', '--', '--keep', '--rows', '1000', '--dir', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const seen: ((text: string) => void)[] = [];
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const f of seen) f(out);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (pattern: RegExp, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not print ${pattern} in ${ms} ms:\n${out}`)), ms);
      const check = (text: string) => pattern.test(text) && (clearTimeout(timer), resolve());
      seen.push(check);
      check(out);
      void exited.then((e) => (clearTimeout(timer), reject(new Error(`demo exited with ${e.code ?? e.signal} before printing ${pattern}:\n${out}`))));
    });

  try {
    await waitFor(/press Ctrl-C to stop/, 600_000);
    const ready = Date.now();
    const envFile = join(dir, 'env');
    const vars = parseDemoEnv(readFileSync(envFile, 'utf8'));
    assert.deepEqual(Object.keys(vars).sort(), ['CLICKHOUSE_URL', 'COLDTIER_CONFIG', 'DATABASE_URL', 'ICEBERG_WAREHOUSE', 'TEMPORAL_ADDRESS']);
    assert.match(vars.DATABASE_URL!, /^postgres:\/\/\w+:[^*@]+@127\.0\.0\.1:\d+\/coldtier$/, 'the real Postgres URL, not a masked one');
    const env = { ...process.env, ...vars };
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 180_000 });

    // A second process: status reads the same chDB (through the demo's gateway), Postgres and warehouse.
    const status = cli('status', '--json');
    assert.equal(status.status, 0, status.stderr);
    const rows = JSON.parse(status.stdout) as { table: string; rows: number; lagSeconds: number; error?: string }[];
    assert.equal(rows.length, 10);
    for (const r of rows) assert.equal(r.error, undefined, `${r.table}: ${r.error}`);
    assert.equal(rows.find((r) => r.table === 'bronze_trades_binance')?.rows, 1000);

    // The chDB data directory itself is the demo's: opening it directly says so, and names the gateway instead.
    const direct = spawnSync(process.execPath, [BIN, 'status'], { env: { ...env, CLICKHOUSE_URL: `chdb://${dir}/chdb` }, encoding: 'utf8', timeout: 180_000 });
    assert.equal(direct.status, 1);
    assert.match(direct.stderr, /^coldtier: cannot open the embedded ClickHouse \(chDB\) at \S+ .*most likely open in another process.*set CLICKHOUSE_URL to that process's HTTP gateway/m);

    // Schedules applied from the second process run on the demo's worker.
    const applied = cli('schedules', 'apply');
    assert.equal(applied.status, 0, applied.stderr);
    const triggered = cli('schedules', 'trigger', 'offload');
    assert.equal(triggered.status, 0, triggered.stderr);
    const workflowId = /: started (\S+)/.exec(triggered.stdout)?.[1];
    assert.ok(workflowId, triggered.stdout);
    const connection = await Connection.connect({ address: vars.TEMPORAL_ADDRESS! });
    try {
      const result = (await new Client({ connection }).workflow.getHandle(workflowId).result()) as { status: string };
      assert.equal(result.status, 'ok', 'the scheduled run completed on the demo worker');
    } finally {
      await connection.close();
    }

    // Still up 90 s after it said so: the demo has not exited in that time.
    const stillUp = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), Math.max(0, ready + UP_MS - Date.now())))]);
    assert.ok(stillUp, `the demo exited by itself:\n${out}`);

    // Ctrl-C: the whole process group gets SIGINT; the demo stops its worker, Temporal, Postgres and the gateway.
    process.kill(-child.pid!, 'SIGINT');
    const end = await exited;
    // npm re-raises the SIGINT its script got once the script has exited; the demo itself exits 0 after stopping all.
    assert.ok(end.code === 0 || end.signal === 'SIGINT', `exit ${end.code ?? end.signal}:\n${out}`);
    assert.match(out, /demo: stopped\n/);
    assert.doesNotMatch(out, /^coldtier: /m, 'no error on the way down');
    assert.ok(!existsSync(envFile), 'the env file is removed with the stack it describes');
    const pgPort = Number(/@127\.0\.0\.1:(\d+)\//.exec(vars.DATABASE_URL!)![1]);
    const temporalPort = Number(vars.TEMPORAL_ADDRESS!.split(':')[1]);
    const gatewayPort = Number(new URL(vars.CLICKHOUSE_URL!).port);
    for (const port of [pgPort, temporalPort, gatewayPort]) assert.equal(await listening(port), false, `port ${port} is closed after Ctrl-C`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
});
