// Records the event histories of real offload runs into test/histories/*.json, for test/replay.test.ts.
//   npm run record-histories                 (starts its own Temporal/Postgres/MinIO unless COLDTIER_TEST_* is set)
//   npm run record-histories -- offload-retried-activity   (only the named scenarios)
// Re-record only when a workflow change is meant to be incompatible AND no run of the old code can still be open;
// otherwise keep the old histories and guard the change with patched() (docs/operations.md, "Changing workflows").
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { startOffload } from '../src/cli/offload';
import { findTool, startStack, type RunningStack } from '../src/devstack/index';
import { createActivities } from '../src/activities';
import { setWatermark } from '../src/db/watermarks';
import { defaultTables } from '../src/config/tables';
import { createBronzeTable, createSilverAndGold, EXCHANGES, insertTrades } from '../src/feed/synthetic';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, makeTestEnv } from '../test/helpers/coldtier';

const root = resolve(import.meta.dirname, '..');
const outDir = join(root, 'test', 'histories');

interface Scenario {
  name: string;
  what: string;
  run(): Promise<{ client: Client; workflowId: string; close(): Promise<void> }>;
}

/**
 * Runs one offload workflow on its own test env with `setup` applied, and returns the run to record. The worker
 * runs in this process; `hooks` inject faults into the activities.
 */
async function offloadRun(
  tables: (tag: string) => ReturnType<typeof bronzeTable>[],
  setup: (ch: Awaited<ReturnType<typeof openServices>>['ch'], names: string[]) => Promise<void>,
  hooks: Parameters<typeof createWorker>[1]['hooks'] = {},
) {
  const env = await makeTestEnv({ warehouse: 'file', tables });
  const services = await openServices(env.settings);
  const client = await connectClient(env.settings.temporal);
  const workflowId = `record-offload-${env.tag}`;
  try {
    await setup(services.ch, env.settings.tables.map((t) => t.name));
    const worker = await createWorker(env.settings, { services, hooks });
    await worker.runUntil(startOffload(env.settings, { wait: true, json: true, workflowId }).catch(() => null));
  } finally {
    await services.close();
  }
  return { client, workflowId, close: () => client.connection.close() };
}

/** Offloads `cycles` small batches per table directly, then runs one maintenance workflow with `args` to record. */
async function maintenanceRun(
  args: Record<string, unknown>,
  opts: { cycles: number; failCompactOf?: number; gap?: boolean },
) {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`m1_${tag}`), bronzeTable(`m2_${tag}`)] });
  const services = await openServices(env.settings);
  const client = await connectClient(env.settings.temporal);
  const workflowId = `record-maintenance-${env.tag}`;
  const names = env.settings.tables.map((t) => t.name);
  try {
    const acts = createActivities({ settings: env.settings, ...services });
    for (const t of names) {
      await createBronzeTable(services.ch, t);
      for (let i = 0; i < opts.cycles; i++) {
        await insertTrades(services.ch, t, { rows: 100, exchange: 'binance', seed: i, eventTimeEnd: new Date(Date.now() - 3 * 3_600_000), spreadSeconds: 3_600 });
        await acts.offloadTable({ table: t });
      }
    }
    if (opts.gap) {
      // Rows the offload never takes: the watermark is moved past them by hand.
      const t = names[0]!;
      await insertTrades(services.ch, t, { rows: 300, exchange: 'binance', seed: 77, eventTimeEnd: new Date(Date.now() - 4 * 3_600_000), spreadSeconds: 600 });
      const [top] = await services.ch.json<{ ts: string; seq: string }>(`SELECT toString(max(ingested_at)) AS ts, toString(max(sequence)) AS seq FROM ${t}`);
      await setWatermark(services.pool, { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table: t }, ['ingested_at', 'sequence'], [top!.ts, top!.seq], new Date());
    }
    const failing = opts.failCompactOf === undefined ? undefined : names[opts.failCompactOf];
    const worker = await createWorker(env.settings, {
      services,
      hooks: { beforeCompactCommit: async (table) => { if (table === failing) throw new Error('injected: object store refused the compacted files'); } },
    });
    await worker.runUntil(client.workflow.execute('maintenanceWorkflow', { taskQueue: env.settings.temporal.taskQueue, workflowId, args: [args] }).catch(() => null));
  } finally {
    await services.close();
  }
  return { client, workflowId, close: () => client.connection.close() };
}

/**
 * silver_trades and one gold rollup: a first cycle offloads both and starts the restatement mark, late trades land,
 * and the recorded second cycle restates the rollup's changed windows (the `restate-rollups` patch).
 */
async function restateRun() {
  const env = await makeTestEnv({
    warehouse: 'file',
    tables: () => defaultTables.filter((t) => t.name === 'silver_trades' || t.name === 'gold_ohlcv_1h').map((t) => (t.layer === 'silver' ? { ...t, dependsOn: [], lateDataBufferSeconds: 0 } : t)),
  });
  const services = await openServices(env.settings);
  const client = await connectClient(env.settings.temporal);
  const workflowId = `record-offload-${env.tag}`;
  try {
    for (const ex of EXCHANGES) await createBronzeTable(services.ch, `bronze_trades_${ex}`);
    await createSilverAndGold(services.ch);
    const end = new Date(Date.now() - 2 * 86_400_000);
    await insertTrades(services.ch, 'bronze_trades_kraken', { rows: 500, exchange: 'kraken', eventTimeEnd: end, spreadSeconds: 86_400, seed: 5 });
    const worker = await createWorker(env.settings, { services });
    await worker.runUntil(async () => {
      await startOffload(env.settings, { wait: true, json: true });
      await insertTrades(services.ch, 'bronze_trades_kraken', { rows: 20, exchange: 'kraken', eventTimeEnd: new Date(end.getTime() - 3_600_000), spreadSeconds: 43_200, seed: 6 });
      await startOffload(env.settings, { wait: true, json: true, workflowId });
    });
  } finally {
    await services.close();
  }
  return { client, workflowId, close: () => client.connection.close() };
}

const scenarios: Scenario[] = [
  {
    name: 'offload-partial-failed-table',
    what: 'one table commits, one source was dropped (fails, non-retryable), its dependant is skipped: status partial',
    run: () =>
      offloadRun(
        (tag) => [bronzeTable(`ok_${tag}`), bronzeTable(`gone_${tag}`), bronzeTable(`dep_${tag}`, { layer: 'silver', dependsOn: [`gone_${tag}`], requireDependencies: true })],
        async (ch, [ok, gone]) => {
          for (const t of [ok!, gone!]) {
            await createBronzeTable(ch, t);
            await insertTrades(ch, t, { rows: 300, exchange: 'kraken' });
          }
          await ch.command(`DROP TABLE ${gone}`);
        },
      ),
  },
  {
    name: 'offload-retried-activity',
    what: 'the activity fails after its commit on attempt 1; attempt 2 finds its own snapshot and commits nothing new',
    run: () =>
      offloadRun(
        (tag) => [bronzeTable(`retry_${tag}`)],
        async (ch, [t]) => {
          await createBronzeTable(ch, t!);
          await insertTrades(ch, t!, { rows: 500, exchange: 'binance' });
        },
        {
          afterCommit: ({ attempt }) => {
            if (attempt === 1) throw new Error('injected: worker lost after commit');
          },
        },
      ),
  },
  {
    name: 'maintenance-partial',
    what: 'compaction of one table keeps failing (retried, then reported); the other table compacts; expire and audit run: status partial',
    run: () => maintenanceRun({ stages: ['compact', 'expire', 'audit'], snapshotMaxAgeHours: 0, auditWindowHours: 6 }, { cycles: 6, failCompactOf: 0 }),
  },
  {
    name: 'maintenance-audit-failed',
    what: 'a watermark moved past rows that were never offloaded: the audit finds missing_data and the run fails (AuditFailed)',
    run: () => maintenanceRun({ stages: ['audit'], auditWindowHours: 6 }, { cycles: 1, gap: true }),
  },
  {
    name: 'offload-restate-rollup',
    what: 'late trades for offloaded windows: the gold rollup offloads nothing new and restateTable restates its changed windows',
    run: restateRun,
  },
  {
    name: 'offload-all-failed',
    what: 'the only table has no source: every table failed, so the workflow fails (OffloadFailed)',
    run: () => offloadRun((tag) => [bronzeTable(`missing_${tag}`)], async () => undefined),
  },
];

async function withStack<T>(fn: () => Promise<T>): Promise<T> {
  if (process.env.COLDTIER_TEST_TEMPORAL_ADDRESS) return fn();
  const dir = join(root, 'test', '.tmp', `record-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const stack: RunningStack = await startStack({ dir, temporal: true, postgres: true, minio: true, log: (m) => process.stderr.write(`[devstack] ${m}\n`) });
  const { temporal, postgres, minio } = stack;
  Object.assign(process.env, {
    COLDTIER_TEST_TEMPORAL_ADDRESS: temporal!.address,
    COLDTIER_TEST_PG_ADMIN_URL: postgres!.adminUrl,
    COLDTIER_TEST_S3_ENDPOINT: minio!.endpoint,
    COLDTIER_TEST_S3_ACCESS_KEY_ID: minio!.accessKeyId,
    COLDTIER_TEST_S3_SECRET_ACCESS_KEY: minio!.secretAccessKey,
    COLDTIER_TEST_S3_REGION: minio!.region,
    COLDTIER_TEST_S3_BUCKET: minio!.bucket,
    COLDTIER_TEST_STACK_DIR: dir,
  });
  try {
    return await fn();
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  await withStack(async () => {
    const chosen = scenarios.filter((s) => !only.length || only.includes(s.name));
    if (!chosen.length) throw new Error(`no scenario named ${only.join(', ')}; have ${scenarios.map((s) => s.name).join(', ')}`);
    mkdirSync(outDir, { recursive: true });
    for (const s of chosen) {
      const { client, workflowId, close } = await s.run();
      try {
        await client.workflow.getHandle(workflowId).result().catch(() => undefined);
        // Recorded with the Temporal CLI: its JSON is the format historyFromJSON (and runReplayHistories) reads.
        const json = execFileSync(findTool('temporal'), ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', process.env.COLDTIER_TEST_TEMPORAL_ADDRESS!], {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        });
        const history = JSON.parse(json) as { events: unknown[] };
        const file = join(outDir, `${s.name}.json`);
        writeFileSync(file, `${JSON.stringify(history, null, 2)}\n`);
        console.log(`${s.name}: ${history.events.length} events of ${workflowId} -> ${file} (${s.what})`);
      } finally {
        await close();
      }
    }
  });
}

await main();
