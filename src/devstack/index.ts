// Dev/test stack: real Temporal, PostgreSQL and MinIO servers as child processes on 127.0.0.1.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startMinio } from './minio';
import { startPostgres } from './postgres';
import { startTemporal } from './temporal';
import type { MinioHandle, PostgresHandle, RunningStack, StackOptions, Started, TemporalHandle } from './types';

export type { MinioHandle, PostgresHandle, RunningStack, StackOptions, TemporalHandle } from './types';
export { StackStartError, ToolMissingError } from './errors';
export { findPgBinDir, findTool, repoRoot, toolsDir, venvBinDir } from './tools';
export type { ToolName } from './tools';
export { getFreePort } from './ports';

function sub<T extends object>(opt: boolean | T | undefined): T | undefined {
  if (opt === undefined || opt === false) return undefined;
  return opt === true ? ({} as T) : opt;
}

/**
 * Starts the requested servers in parallel, each on 127.0.0.1 (free ports unless given), waits until
 * they answer, and returns their coordinates. Logs go to `<dir>/logs/<service>.log`. If any server
 * fails to start, the others are stopped and the error is rethrown.
 */
export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const dir = resolve(opts.dir);
  const log = opts.log ?? ((): void => undefined);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const started = Date.now();

  const temporalOpts = sub(opts.temporal);
  const postgresOpts = sub(opts.postgres);
  const minioOpts = sub(opts.minio);

  const pending: [
    Promise<Started<TemporalHandle> | undefined>,
    Promise<Started<PostgresHandle> | undefined>,
    Promise<Started<MinioHandle> | undefined>,
  ] = [
    temporalOpts ? startTemporal({ dir, log, ...temporalOpts }) : Promise.resolve(undefined),
    postgresOpts ? startPostgres({ dir, log, ...postgresOpts }) : Promise.resolve(undefined),
    minioOpts ? startMinio({ dir, log, ...minioOpts }) : Promise.resolve(undefined),
  ];
  const [temporal, postgres, minio] = await Promise.allSettled(pending);
  const results = [temporal, postgres, minio];
  const services = results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));

  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopped ??= Promise.allSettled(services.map((s) => s.shutdown())).then((outcomes) => {
      for (const o of outcomes) if (o.status === 'rejected') log(`stop failed: ${String(o.reason)}`);
    });
    return stopped;
  };

  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await stopAll();
    for (const extra of failures.slice(1)) log(`also failed: ${extra instanceof Error ? extra.message : String(extra)}`);
    throw failures[0];
  }

  const stack: RunningStack = { dir, stop: stopAll };
  if (temporal.status === 'fulfilled' && temporal.value) stack.temporal = temporal.value.handle;
  if (postgres.status === 'fulfilled' && postgres.value) stack.postgres = postgres.value.handle;
  if (minio.status === 'fulfilled' && minio.value) stack.minio = minio.value.handle;
  log(`stack ready in ${Date.now() - started} ms (${dir})`);
  return stack;
}
