// Progress while the CLI waits (issue 17): `offload --wait` prints batch N of M, rows done and rows pending during a
// multi-batch offload (from the activity's heartbeats), and warns when no worker polls the task queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { progressLine } from '../src/cli/progress';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { bronzeTable, cliEnv, makeTestEnv, openChdb } from './helpers/coldtier';
import { BIN, spawnWorker } from './helpers/processes';

/** Runs the CLI in the background; `until` resolves once its stderr matches (or rejects when it exits first). */
function background(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; until(p: RegExp, ms?: number): Promise<string> } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const waiters: (() => void)[] = [];
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    for (const w of waiters) w();
  });
  return {
    child,
    until: (p, ms = 180_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${p} on stderr in ${ms} ms:\n${err}\nstdout:\n${out}`)), ms);
        const check = () => p.test(err) && (clearTimeout(timer), resolve(err));
        waiters.push(check);
        child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`exited with ${code} before ${p}:\n${err}\nstdout:\n${out}`))));
        check();
      }),
  };
}

const stop = async (c: ChildProcess) => {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await exited;
};

test('progressLine: batch N of M, rows done and pending, a bar on a TTY only', () => {
  const p = { table: 't', stage: 'committed', batchNumber: 3, batches: 10, rowsDone: 1_500_000, rowsPending: 3_500_000 };
  assert.equal(progressLine('offloadTable', p, false), 't  committed  batch 3 of 10  1,500,000 rows done, 3,500,000 pending');
  assert.equal(progressLine('offloadTable', p, true), 't  committed  batch 3 of 10  1,500,000 rows done, 3,500,000 pending  [######--------------] 30%');
});

test('offload --wait prints progress lines during a multi-batch offload, and warns when no worker polls', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_p${tag}`, { batchRows: 100 })] });
  const table = env.settings.tables[0]!.name;
  const configPath = join(env.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: env.settings.tables }));
  const vars = cliEnv(env, configPath);
  const ch = await openChdb(env);
  await createBronzeTable(ch, table);
  await insertTrades(ch, table, { rows: 1000, exchange: 'binance' });
  await ch.close(); // chDB: one process per data directory, and the worker is another process

  // No worker on this task queue: the CLI says so instead of waiting silently.
  const lonely = background(['offload', '--wait', '--tables', table], { ...vars, TEMPORAL_TASK_QUEUE: `nobody-${env.tag}` });
  try {
    await lonely.until(new RegExp(`warning: no worker has polled task queue nobody-${env.tag}`));
  } finally {
    await stop(lonely.child);
  }

  // A worker that stops for good after its first commit (the fault suite's pause): the run stays in batch 1 of 10,
  // so the progress line is certain to be seen, whatever the machine's speed.
  const worker = await spawnWorker({ ...vars, COLDTIER_FAULT_PAUSE: 'after-commit' }, `progress-${env.tag}`);
  const cli = background(['offload', '--wait', '--tables', table], vars);
  try {
    const err = await cli.until(new RegExp(`^${table}  committed  batch 1 of 10  100 rows done, 900 pending$`, 'm'));
    assert.doesNotMatch(err, /warning: no worker/);
  } finally {
    await stop(cli.child);
    await worker.kill('SIGKILL');
  }
});
