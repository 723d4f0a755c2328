// What every activity gets: its clients, made once per worker, and the one seam through which tests inject faults.
import type pg from 'pg';
import type { ClickHouse } from '../clickhouse/client';
import type { Settings } from '../config/settings';
import { describeConnectError } from '../errors';
import { createFileIO, type FileIO } from '../iceberg';

export interface ActivityDeps {
  settings: Settings;
  pool: pg.Pool;
  ch: ClickHouse;
  io: FileIO;
  /** Fault injection for tests; never set in production (see faults.ts for the fault suite's points). */
  hooks?: TestHooks;
}

/** Places where the fault suite stops, freezes or slows a worker (see faults.ts). */
export type FaultPoint = 'reading' | 'uploading' | 'before-commit' | 'after-commit' | 'compact-before-commit' | 'expire-after-commit' | 'commit-ranges-before-commit';

/** Test hooks, called at fixed points of the activities. Each may throw (an injected failure) or wait. */
export interface TestHooks {
  /** After each committed offload batch. */
  afterCommit?: (e: { table: string; attempt: number; batch: number }) => void | Promise<void>;
  /** Between a compaction's rewrite and its commit (a concurrent offload lands here in tests). */
  beforeCompactCommit?: (table: string) => Promise<void>;
  /** At each named fault point; `ch` is the attempt's ClickHouse connection where there is one. */
  faultPoint?: (point: FaultPoint, table: string, ctx?: { ch?: ClickHouse }) => Promise<void>;
  /** False: the table lock's periodic liveness check is off (the silent-partition fault test; see TableLockOptions). */
  periodicLockCheck?: false;
}

/** The warehouse FileIO, checked by listing the warehouse root so bad S3 settings fail at start with the setting named. */
export async function openFileIO(settings: Settings): Promise<FileIO> {
  const s3 = settings.s3;
  const io = createFileIO({
    s3: {
      region: s3.region,
      multipartThresholdBytes: s3.multipartThresholdMb * 1024 * 1024,
      ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: true } : {}),
      ...(s3.accessKeyId ? { accessKeyId: s3.accessKeyId } : {}),
      ...(s3.secretAccessKey ? { secretAccessKey: s3.secretAccessKey } : {}),
    },
  });
  if (settings.warehouse.startsWith('s3://')) {
    try {
      await io.list(settings.warehouse.replace(/\/?$/, '/__coldtier_probe__/'));
    } catch (err) {
      throw describeConnectError('S3', 'ICEBERG_WAREHOUSE / S3_ENDPOINT / AWS_ACCESS_KEY_ID', settings.warehouse, err);
    }
  }
  return io;
}
