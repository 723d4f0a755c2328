import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Client, ScheduleDescription } from '@temporalio/client';
import type { OffloadWorkflowResult } from '../src/activities/types';
import { readWatermark } from '../src/db/watermarks';
import { findTool } from '../src/devstack/tools';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { CATCHUP, DESCRIPTIONS, MAINTENANCE_INPUT, scheduleIds } from '../src/schedules/definitions';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { COLDTIER_STATUS, COLDTIER_TABLES } from '../src/workflows/search-attributes';
import { bronzeTable, cliEnv, makeTestEnv, type TestEnv } from './helpers/coldtier';

const BIN = join(import.meta.dirname, '..', 'bin', 'coldtier.mjs');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const coldtier = (args: string[], env: NodeJS.ProcessEnv) => run(process.execPath, [BIN, ...args], env);
/** The real `temporal` CLI binary (what an operator types), against the test server. */
const temporalCli = (e: TestEnv, args: string[]) => run(findTool('temporal'), [...args, '--address', e.settings.temporal.address, '--namespace', e.settings.temporal.namespace], process.env);

function configure(e: TestEnv): NodeJS.ProcessEnv {
  const configPath = join(e.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: e.settings.tables }));
  return cliEnv(e, configPath);
}

async function cleanup(client: Client, prefix: string): Promise<void> {
  for (const id of Object.values(scheduleIds(prefix))) await client.schedule.getHandle(id).delete().catch(() => undefined);
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}-' AND ExecutionStatus = 'Running'` })) {
    await client.workflow.getHandle(wf.workflowId, wf.runId).terminate('test cleanup').catch(() => undefined);
  }
}

/** Waits until the schedule has taken `n` actions; returns the newest action's workflow id. */
async function nthAction(client: Client, scheduleId: string, n: number, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const d = await client.schedule.getHandle(scheduleId).describe();
    if (d.info.numActionsTaken >= n) return d.info.recentActions.at(-1)!.action.workflow.workflowId;
    if (Date.now() > deadline) throw new Error(`${scheduleId} took ${d.info.numActionsTaken} actions, want ${n}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What a reviewer checks of a described schedule: spec, overlap, catch-up, memo, action. */
function shape(d: ScheduleDescription) {
  return {
    calendars: d.spec.calendars?.map((c) => ({ minute: c.minute, hour: c.hour, comment: c.comment })),
    timezone: d.spec.timezone,
    policies: d.policies,
    memo: d.memo,
    action: { type: d.action.workflowType, workflowId: d.action.workflowId, taskQueue: d.action.taskQueue, args: d.action.args },
    paused: d.state.paused,
  };
}

test('schedules apply creates both schedules once; a second run changes nothing; pause/resume/list/delete', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_s${tag}`)] });
  const vars = configure(env);
  const prefix = `test-${env.tag}`;
  const ids = scheduleIds(prefix);
  const client = await connectClient(env.settings.temporal);
  try {
    const first = coldtier(['schedules', 'apply', '--prefix', prefix], vars);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`${ids.offload}: created`));
    assert.match(first.stdout, new RegExp(`${ids.maintenance}: created`));
    const described = async () => Promise.all([ids.offload, ids.maintenance].map((id) => client.schedule.getHandle(id).describe()));
    const [offload, maintenance] = await described();

    assert.deepEqual(shape(offload!), {
      calendars: [{ minute: [{ start: 0, end: 59, step: 15 }], hour: [{ start: 0, end: 23, step: 1 }], comment: 'every 15 minutes' }],
      timezone: 'UTC',
      policies: { overlap: 'SKIP', catchupWindow: 10 * 60_000, pauseOnFailure: false },
      memo: { description: offload!.memo!.description, managedBy: 'coldtier schedules apply' },
      action: { type: 'offloadWorkflow', workflowId: ids.offload, taskQueue: env.settings.temporal.taskQueue, args: [{}] },
      paused: false,
    });
    assert.match(String(offload!.memo!.description), /^Every 15 minutes \(UTC\): offloadWorkflow copies/);
    // The description is the schedule's own note too, which the Web UI shows as "Notes".
    assert.deepEqual([offload!.state.note, maintenance!.state.note], [DESCRIPTIONS.offload, DESCRIPTIONS.maintenance]);
    assert.deepEqual(shape(maintenance!), {
      calendars: [{ minute: [{ start: 0, end: 0, step: 1 }], hour: [{ start: 2, end: 2, step: 1 }], comment: 'daily at 02:00 UTC' }],
      timezone: 'UTC',
      policies: { overlap: 'SKIP', catchupWindow: 6 * 3_600_000, pauseOnFailure: false },
      memo: { description: maintenance!.memo!.description, managedBy: 'coldtier schedules apply' },
      action: { type: 'maintenanceWorkflow', workflowId: ids.maintenance, taskQueue: env.settings.temporal.taskQueue, args: [MAINTENANCE_INPUT] },
      paused: false,
    });
    assert.equal(CATCHUP.maintenance, '6 hours');
    assert.ok(maintenance!.info.nextActionTimes.every((t) => t.getUTCHours() === 2 && t.getUTCMinutes() === 0));
    assert.ok(offload!.info.nextActionTimes.every((t) => t.getUTCMinutes() % 15 === 0 && t.getUTCSeconds() === 0));

    // Idempotent: the second run writes nothing and says so; the schedules are exactly as before.
    const second = coldtier(['schedules', 'apply', '--prefix', prefix, '--json'], vars);
    assert.equal(second.code, 0, second.stderr);
    const r = JSON.parse(second.stdout) as { unchanged: boolean; schedules: { outcome: string }[] };
    assert.equal(r.unchanged, true);
    assert.deepEqual(r.schedules.map((s) => s.outcome), ['unchanged', 'unchanged']);
    assert.match(coldtier(['schedules', 'apply', '--prefix', prefix], vars).stdout, /nothing changed/);
    const again = await described();
    assert.deepEqual(again.map(shape), [offload, maintenance].map((d) => shape(d!)));
    assert.deepEqual(again.map((d) => d.info.lastUpdatedAt), [offload!.info.lastUpdatedAt, maintenance!.info.lastUpdatedAt]);

    // A changed setting (task queue) is updated in place; a paused schedule stays paused with its note.
    // By schedule id, as `schedules list` and the Web UI show it.
    const paused = coldtier(['schedules', 'pause', ids.offload, '--prefix', prefix, '--note', 'warehouse migration OPS-12'], vars);
    assert.equal(paused.code, 0, paused.stderr);
    const moved = coldtier(['schedules', 'apply', '--prefix', prefix], { ...vars, TEMPORAL_TASK_QUEUE: `${env.settings.temporal.taskQueue}-b` });
    assert.match(moved.stdout, new RegExp(`${ids.offload}: updated \\(action\\)`));
    const o2 = await client.schedule.getHandle(ids.offload).describe();
    assert.equal(o2.action.taskQueue, `${env.settings.temporal.taskQueue}-b`);
    assert.equal(o2.state.paused, true);
    assert.equal(o2.state.note, 'warehouse migration OPS-12');
    const list = coldtier(['schedules', 'list', '--prefix', prefix], vars);
    assert.match(list.stdout, new RegExp(`${ids.offload}\\s+paused\\s+every 15 minutes\\s+SKIP .*warehouse migration OPS-12`));
    assert.match(list.stdout, new RegExp(`${ids.maintenance}\\s+active\\s+daily at 02:00 UTC`));

    // The plain Temporal CLI sees and operates the same schedules.
    const toggled = temporalCli(env, ['schedule', 'toggle', '--unpause', '--schedule-id', ids.offload, '--reason', 'back to normal']);
    assert.equal(toggled.code, 0, toggled.stderr);
    const desc = temporalCli(env, ['schedule', 'describe', '--schedule-id', ids.offload, '--output', 'json']);
    assert.equal(desc.code, 0, desc.stderr);
    const raw = JSON.parse(desc.stdout) as { schedule: { state: { notes: string; paused?: boolean }; policies: { overlapPolicy: string } } };
    assert.equal(raw.schedule.state.notes, 'back to normal');
    assert.ok(!raw.schedule.state.paused);
    assert.match(raw.schedule.policies.overlapPolicy, /SKIP/);

    // A trigger on a paused schedule runs (as Temporal does) but says the schedule is paused, and why.
    assert.equal(coldtier(['schedules', 'pause', 'offload', '--prefix', prefix, '--note', 'ClickHouse upgrade'], vars).code, 0);
    const triggered = coldtier(['schedules', 'trigger', ids.offload, '--prefix', prefix], vars);
    assert.equal(triggered.code, 0, triggered.stderr);
    assert.match(triggered.stdout, new RegExp(`^${ids.offload}: the schedule is paused \\(ClickHouse upgrade\\); this trigger runs anyway`, 'm'));
    const run = /: started (\S+)/.exec(triggered.stdout)?.[1];
    if (run) await client.workflow.getHandle(run).terminate('test: no worker on the moved task queue');

    const resumed = coldtier(['schedules', 'resume', 'all', '--prefix', prefix], vars);
    assert.equal(resumed.code, 0, resumed.stderr);
    // Resumed without --note: the note is the schedule's description again, not the old pause reason.
    assert.equal((await client.schedule.getHandle(ids.offload).describe()).state.note, DESCRIPTIONS.offload);
    const bad = coldtier(['schedules', 'pause', 'nightly', '--prefix', prefix, '--note', 'x'], vars);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`unknown schedule "nightly": use offload, maintenance, ${ids.offload}, ${ids.maintenance}, all`));
    const del = coldtier(['schedules', 'delete', 'all', '--prefix', prefix], vars);
    assert.equal(del.code, 0, del.stderr);
    assert.match(coldtier(['schedules', 'list', '--prefix', prefix], vars).stdout, /missing \(run coldtier schedules apply\)/);
    const gone = coldtier(['schedules', 'trigger', 'offload', '--prefix', prefix], vars);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /schedule test-\w+-offload does not exist in this namespace; run `coldtier schedules apply` first/);
  } finally {
    await cleanup(client, prefix);
    await client.connection.close();
  }
});

test('`temporal schedule trigger` starts an offload that completes and moves the watermark; the run is searchable', async () => {
  const env = await makeTestEnv({ warehouse: 's3', tables: (tag) => [bronzeTable(`bronze_trades_t${tag}`)] });
  const table = env.settings.tables[0]!.name;
  const vars = configure(env);
  const prefix = `test-${env.tag}`;
  const ids = scheduleIds(prefix);
  const services = await openServices(env.settings);
  const client = await connectClient(env.settings.temporal);
  try {
    await createBronzeTable(services.ch, table);
    await insertTrades(services.ch, table, { rows: 777, exchange: 'kraken' });
    const [last] = await services.ch.json<{ ts: string; seq: string }>(`SELECT toString(max(ingested_at)) AS ts, toString(max(sequence)) AS seq FROM ${table}`);
    const id = { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table };
    assert.equal(await readWatermark(services.pool, id), null);
    assert.equal(coldtier(['schedules', 'apply', '--prefix', prefix], vars).code, 0);

    const worker = await createWorker(env.settings, { services });
    await worker.runUntil(async () => {
      const trig = temporalCli(env, ['schedule', 'trigger', '--schedule-id', ids.offload]);
      assert.equal(trig.code, 0, trig.stderr);
      const workflowId = await nthAction(client, ids.offload, 1);
      assert.match(workflowId, new RegExp(`^${ids.offload}-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`), 'readable id: schedule id + action time');
      const handle = client.workflow.getHandle(workflowId);
      const result = (await handle.result()) as OffloadWorkflowResult;
      assert.equal(result.status, 'ok');
      assert.equal(result.tables[0]!.rows, 777);
      const wm = await readWatermark(services.pool, id);
      assert.deepEqual(wm?.values, [last!.ts, last!.seq]);

      const d = await handle.describe();
      assert.deepEqual(d.typedSearchAttributes.get(COLDTIER_TABLES), [table]);
      assert.equal(d.typedSearchAttributes.get(COLDTIER_STATUS), 'ok');
      assert.equal(await d.staticSummary(), `scheduled offload of all 1 tables (${ids.offload})`);
      // Operators find runs by table and status, in the UI or with the CLI.
      const found = temporalCli(env, ['workflow', 'list', '--query', `ColdtierTables = '${table}' AND ColdtierStatus = 'ok'`, '--output', 'json']);
      assert.equal(found.code, 0, found.stderr);
      assert.match(found.stdout, new RegExp(workflowId));

      // Our trigger honours SKIP: a second one while nothing runs starts the next offload (nothing new to take).
      const again = coldtier(['schedules', 'trigger', 'offload', '--prefix', prefix], vars);
      assert.equal(again.code, 0, again.stderr);
      const second = /started (\S+)/.exec(again.stdout)?.[1];
      assert.ok(second, again.stdout);
      const r2 = (await client.workflow.getHandle(second).result()) as OffloadWorkflowResult;
      assert.equal(r2.tables[0]!.status, 'noop');
    });
  } finally {
    await cleanup(client, prefix);
    await client.connection.close();
    await services.close();
  }
});

test('schedules backfill replays the missed maintenance days, one run per 02:00 UTC, one at a time', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_b${tag}`)] });
  const vars = configure(env);
  const prefix = `test-${env.tag}`;
  const ids = scheduleIds(prefix);
  const client = await connectClient(env.settings.temporal);
  try {
    assert.equal(coldtier(['schedules', 'apply', '--prefix', prefix], vars).code, 0);
    // Nothing polls this task queue: the runs stay open, so the queue of backfilled days can be inspected.
    const out = coldtier(['schedules', 'backfill', '--prefix', prefix, '--from', '2026-01-01T02:00:00Z', '--to', '2026-01-03T02:00:00Z'], vars);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /2 run\(s\) at 2026-01-01 02:00:00 UTC, 2026-01-02 02:00:00 UTC/);
    const started: string[] = [];
    for (let n = 1; n <= 2; n++) {
      const wf = await nthAction(client, ids.maintenance, n);
      started.push(wf);
      const h = client.workflow.getHandle(wf);
      const d = await h.describe();
      assert.equal(d.type, 'maintenanceWorkflow');
      assert.equal(d.taskQueue, env.settings.temporal.taskQueue);
      const s = await client.schedule.getHandle(ids.maintenance).describe();
      assert.deepEqual(s.info.runningActions.map((a) => a.workflow.workflowId), [wf], 'one maintenance at a time');
      await h.terminate('test: next backfilled day');
    }
    assert.deepEqual(started, [`${ids.maintenance}-2026-01-01T02:00:00Z`, `${ids.maintenance}-2026-01-02T02:00:00Z`]);
    await new Promise((r) => setTimeout(r, 1500));
    const s = await client.schedule.getHandle(ids.maintenance).describe();
    assert.equal(s.info.numActionsTaken, 2, '--to is exclusive: 2026-01-03T02:00 is not replayed');
  } finally {
    await cleanup(client, prefix);
    await client.connection.close();
  }
});
