import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import type pg from 'pg';
import { createActivities, type TestHooks } from './activities';
import { openFileIO } from './activities/deps';
import { faultHooksFromEnv } from './activities/faults';
import { openClickHouse, type ClickHouse } from './clickhouse/client';
import type { Settings } from './config/settings';
import { migrate } from './db/migrations';
import { openPool } from './db/pool';
import { assertSessionPinning } from './db/pooler';
import type { FileIO } from './iceberg';
import { connectWorker } from './temporal/connection';
import { ensureSearchAttributes } from './schedules/search-attributes';
import { metrics } from './metrics/registry';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface Services {
  pool: pg.Pool;
  ch: ClickHouse;
  io: FileIO;
  close(): Promise<void>;
}

/** Opens Postgres (running migrations), ClickHouse and the warehouse, each checked with a clear error. */
export async function openServices(settings: Settings): Promise<Services> {
  const pool = await openPool(settings.databaseUrl);
  try {
    await migrate(pool);
    // The table locks need real sessions: refuse a transaction-mode pooler here rather than misbehave later.
    await assertSessionPinning(settings.databaseUrl);
    const ch = await openClickHouse(settings.clickhouse);
    try {
      const io = await openFileIO(settings);
      return { pool, ch, io, close: async () => void (await Promise.allSettled([pool.end(), ch.close()])) };
    } catch (err) {
      await ch.close();
      throw err;
    }
  } catch (err) {
    await pool.end();
    throw err;
  }
}

export interface WorkerOptions {
  services: Services;
  identity?: string;
  /** Fault injection for tests. @default the fault suite's hooks when a COLDTIER_FAULT_* point is set (faults.ts), else none */
  hooks?: TestHooks;
  /** @default settings.temporal.taskQueue */
  taskQueue?: string;
}

export async function createWorker(settings: Settings, opts: WorkerOptions): Promise<Worker> {
  const connection = await connectWorker(settings.temporal);
  // Workflows upsert ColdtierTables/ColdtierStatus; on a namespace without them every workflow task would fail.
  await ensureSearchAttributes(connection.operatorService, settings.temporal.namespace).catch(async (err: unknown) => {
    await connection.close();
    throw err;
  });
  metrics.declareTables(settings.tables.map((t) => t.name));
  const { pool, ch, io } = opts.services;
  const hooks = opts.hooks ?? faultHooksFromEnv();
  return Worker.create({
    connection,
    namespace: settings.temporal.namespace,
    taskQueue: opts.taskQueue ?? settings.temporal.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ settings, pool, ch, io, ...(hooks ? { hooks } : {}) }),
    ...(opts.identity ? { identity: opts.identity } : {}),
    // Offloads are I/O + CPU heavy; a 2-core machine does best with a few at a time.
    maxConcurrentActivityTaskExecutions: 4,
    // A heartbeat's response is how a running activity learns it was cancelled (workflow cancel) or timed out: send
    // one at least this often, so a cancelled attempt stops (and releases its table lock) within seconds.
    maxHeartbeatThrottleInterval: '3 seconds',
    defaultHeartbeatThrottleInterval: '3 seconds',
  });
}
