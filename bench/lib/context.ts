import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startStack, venvBinDir, type RunningStack } from '../../src/devstack/index';
import { loadSettings, type Settings } from '../../src/config/settings';
import { tableConfigSchema, type TableConfigInput } from '../../src/config/tables';
import { openServices, type Services } from '../../src/worker';
import type { BenchOptions } from './options';

export const REPO = resolve(import.meta.dirname, '..', '..');
/** chDB's icebergLocal/file functions only reach below its user_files_path (the working directory): keep data under the repo. */
export const RUN_DIR = join(REPO, 'bench', '.tmp', 'run');

export interface Bench {
  opts: BenchOptions;
  dir: string;
  stack: RunningStack;
  chdbPath: string;
  /** Postgres, chDB (in-process) and the FileIO, shared by every step. */
  services: Services;
  /** Settings for one step: its own catalog name and task queue, file:// or s3:// warehouse, the given tables. */
  settings(o: { tag: string; tables: TableConfigInput[]; warehouse?: 'file' | 's3'; clickhouseUrl?: string }): Settings;
  /** Environment for a `coldtier` subprocess with the same settings (tables from a config file). */
  env(s: Settings, configPath: string): NodeJS.ProcessEnv;
  log(msg: string): void;
  close(): Promise<void>;
}

export function bronzeConfig(name: string, source: string, extra: Partial<TableConfigInput> = {}): TableConfigInput {
  return {
    name,
    source,
    layer: 'bronze',
    watermark: ['ingested_at', 'sequence'],
    partitionBy: [{ column: 'exchange_timestamp', transform: 'day' }],
    sortBy: ['symbol', 'exchange_timestamp'],
    // The bench inserts every row before it offloads, so nothing is still in flight.
    lateDataBufferSeconds: 0,
    ...extra,
  };
}

export async function openBench(opts: BenchOptions, log: (m: string) => void): Promise<Bench> {
  rmSync(RUN_DIR, { recursive: true, force: true });
  mkdirSync(RUN_DIR, { recursive: true });
  const t = Date.now();
  const stack = await startStack({ dir: join(RUN_DIR, 'stack'), temporal: true, postgres: true, minio: true });
  log(`stack up in ${((Date.now() - t) / 1000).toFixed(1)} s: temporal ${stack.temporal!.address}, postgres :${stack.postgres!.port}, minio ${stack.minio!.endpoint}`);
  const chdbPath = join(RUN_DIR, 'chdb');
  const minio = stack.minio!;
  const base = (o: { tag: string; warehouse?: 'file' | 's3'; clickhouseUrl?: string }): Record<string, string> => ({
    TEMPORAL_ADDRESS: stack.temporal!.address,
    TEMPORAL_TASK_QUEUE: `bench-${o.tag}`,
    DATABASE_URL: stack.postgres!.url,
    CLICKHOUSE_URL: o.clickhouseUrl ?? `chdb://${chdbPath}`,
    ICEBERG_CATALOG_NAME: `bench_${o.tag}`,
    ICEBERG_WAREHOUSE: o.warehouse === 's3' ? `s3://${minio.bucket}/${o.tag}` : `file://${RUN_DIR}/warehouse/${o.tag}`,
    S3_ENDPOINT: minio.endpoint,
    AWS_ACCESS_KEY_ID: minio.accessKeyId,
    AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
    AWS_REGION: minio.region,
  });
  const settings: Bench['settings'] = (o) => {
    const s = loadSettings({ env: base(o), cwd: RUN_DIR });
    s.tables = o.tables.map((t) => tableConfigSchema.parse(t));
    return s;
  };
  let services: Services;
  try {
    services = await openServices(settings({ tag: 'base', tables: [bronzeConfig('base', 'base')] }));
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    opts,
    dir: RUN_DIR,
    stack,
    chdbPath,
    services,
    settings,
    env: (s, configPath) => ({
      ...process.env,
      PATH: [venvBinDir(), process.env.PATH ?? ''].join(':'),
      COLDTIER_CONFIG: configPath,
      COLDTIER_LOG_LEVEL: 'WARN',
      TEMPORAL_ADDRESS: s.temporal.address,
      TEMPORAL_TASK_QUEUE: s.temporal.taskQueue,
      DATABASE_URL: s.databaseUrl,
      CLICKHOUSE_URL: s.clickhouse.url,
      ICEBERG_CATALOG_NAME: s.catalog.name,
      ICEBERG_WAREHOUSE: s.warehouse,
      S3_ENDPOINT: s.s3.endpoint ?? '',
      AWS_ACCESS_KEY_ID: s.s3.accessKeyId ?? '',
      AWS_SECRET_ACCESS_KEY: s.s3.secretAccessKey ?? '',
      AWS_REGION: s.s3.region,
    }),
    log,
    close: async () => {
      await services.close();
      await stack.stop();
      if (!opts.keep) rmSync(RUN_DIR, { recursive: true, force: true });
    },
  };
}
