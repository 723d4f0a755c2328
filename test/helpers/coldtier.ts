import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadSettings, type Settings } from '../../src/config/settings';
import type { TableConfigInput } from '../../src/config/tables';
import { tableConfigSchema } from '../../src/config/tables';
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/client';
import { createTestDatabase, testStack } from './stack';
import { installLogging } from '../../src/logging';

installLogging('WARN');

export const suffix = () => randomBytes(4).toString('hex');

export interface TestEnv {
  settings: Settings;
  dir: string;
  chdbPath: string;
  /** Unique per test: table names, catalog, task queue. */
  tag: string;
}

/**
 * Settings for one test: its own Postgres database, catalog name, task queue, chDB directory and warehouse
 * (file:// in a temp dir, or s3:// under a unique prefix in the shared MinIO bucket).
 */
export async function makeTestEnv(opts: { warehouse: 'file' | 's3'; tables: (tag: string) => TableConfigInput[] }): Promise<TestEnv> {
  const tag = suffix();
  const stack = testStack();
  // chDB's icebergLocal reads only below its user_files_path, the working directory: keep warehouses in test/.tmp.
  const root = join(process.cwd(), 'test', '.tmp');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `t-${tag}-`));
  const chdbPath = join(dir, 'chdb');
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: `test-${tag}`,
    DATABASE_URL: await createTestDatabase(),
    CLICKHOUSE_URL: `chdb://${chdbPath}`,
    ICEBERG_CATALOG_NAME: `test_${tag}`,
    ICEBERG_WAREHOUSE: opts.warehouse === 'file' ? `file://${dir}/warehouse` : `s3://${stack.s3Bucket}/t-${tag}`,
    S3_ENDPOINT: stack.s3Endpoint,
    AWS_ACCESS_KEY_ID: stack.s3AccessKeyId,
    AWS_SECRET_ACCESS_KEY: stack.s3SecretAccessKey,
    AWS_REGION: stack.s3Region,
  };
  const settings = loadSettings({ env, cwd: dir });
  settings.tables = opts.tables(tag).map((t) => tableConfigSchema.parse(t));
  return { settings, dir, chdbPath, tag };
}

/** The environment a `coldtier` CLI subprocess needs to see the same settings (tables via a config file). */
export function cliEnv(e: TestEnv, configPath: string): NodeJS.ProcessEnv {
  const s = e.settings;
  return {
    ...process.env,
    COLDTIER_CONFIG: configPath,
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
  };
}

export function bronzeTable(name: string, extra: Partial<TableConfigInput> = {}): TableConfigInput {
  return {
    name,
    source: name,
    layer: 'bronze',
    watermark: ['ingested_at', 'sequence'],
    partitionBy: [{ column: 'exchange_timestamp', transform: 'day' }],
    sortBy: ['symbol', 'exchange_timestamp'],
    lateDataBufferSeconds: 0,
    ...extra,
  };
}

export const openChdb = (e: TestEnv): Promise<ClickHouse> => openClickHouse(e.settings.clickhouse);

/** An independent reader: ClickHouse's own Iceberg reader (icebergLocal / icebergS3) over the table location. */
export function icebergFunction(e: TestEnv, table: string): string {
  const loc = `${e.settings.warehouse}/${e.settings.catalog.namespace}/${table}`;
  if (loc.startsWith('file://')) return `icebergLocal('${loc.slice('file://'.length)}')`;
  const s3 = e.settings.s3;
  const url = `${s3.endpoint}/${loc.slice('s3://'.length)}`;
  return `icebergS3('${url}', '${s3.accessKeyId}', '${s3.secretAccessKey}')`;
}

export const LAYER_COLUMNS = {
  bronze: { cols: ['exchange', 'symbol', 'trade_id', 'side', 'price', 'quantity', 'exchange_timestamp', 'ingested_at', 'sequence'], key: ['exchange', 'sequence'] },
  silver: { cols: ['exchange', 'symbol', 'trade_id', 'side', 'price', 'quantity', 'notional', 'exchange_timestamp', 'ingested_at', 'sequence'], key: ['exchange', 'sequence'] },
  gold: { cols: ['exchange', 'symbol', 'window_start', 'open', 'high', 'low', 'close', 'volume', 'notional', 'trade_count'], key: ['exchange', 'symbol', 'window_start'] },
} as const;

export interface Fingerprint {
  /** rows */
  n: string;
  /** distinct keys: equal to n when nothing is duplicated */
  keys: string;
  /** order-independent hash of every row's content */
  hash: string;
}

/** Count, distinct keys and content hash of `from` (a table or an Iceberg table function), optionally filtered. */
export async function fingerprint(ch: ClickHouse, from: string, layer: keyof typeof LAYER_COLUMNS = 'bronze', where = '1'): Promise<Fingerprint> {
  const { cols, key } = LAYER_COLUMNS[layer];
  const [row] = await ch.json<Fingerprint>(
    `SELECT toString(count()) AS n, toString(uniqExact(${key.join(', ')})) AS keys, toString(sum(cityHash64(${cols.map((c) => `toString(${c})`).join(', ')}))) AS hash FROM ${from} WHERE ${where}`,
  );
  return row!;
}
