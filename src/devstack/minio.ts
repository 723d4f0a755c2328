// MinIO single-drive server in <stack>/minio, with one bucket created up front.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { getFreePort } from './ports';
import { ManagedProcess, looksLikePortClash, waitUntilReady } from './process';
import { findTool } from './tools';
import type { MinioHandle, Started } from './types';

export interface MinioOptions {
  dir: string;
  port?: number;
  bucket?: string;
  log: (msg: string) => void;
}

const READY_TIMEOUT_MS = 60_000;
const REGION = 'us-east-1';

async function healthy(endpoint: string): Promise<boolean> {
  const res = await fetch(`${endpoint}/minio/health/ready`, { signal: AbortSignal.timeout(2_000) });
  await res.body?.cancel();
  return res.ok;
}

async function ensureBucket(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch {
    // fall through and create it
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
  return true;
}

export async function startMinio(opts: MinioOptions): Promise<Started<MinioHandle>> {
  const bin = findTool('minio');
  const serviceDir = join(opts.dir, 'minio');
  rmSync(serviceDir, { recursive: true, force: true });
  const dataDir = join(serviceDir, 'data');
  const certsDir = join(serviceDir, 'certs');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(certsDir, { recursive: true });
  const logFile = join(opts.dir, 'logs', 'minio.log');
  const bucket = opts.bucket ?? 'coldtier';
  const accessKeyId = `ct${randomBytes(8).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('hex');

  let port = opts.port ?? (await getFreePort());
  let proc: ManagedProcess | undefined;
  const endpointOf = (): string => `http://127.0.0.1:${port}`;

  const launch = async (): Promise<void> => {
    const consolePort = await getFreePort();
    const p = await ManagedProcess.spawn({
      name: 'minio',
      command: bin,
      args: ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--certs-dir', certsDir],
      env: {
        PATH: process.env.PATH,
        HOME: serviceDir,
        MINIO_ROOT_USER: accessKeyId,
        MINIO_ROOT_PASSWORD: secretAccessKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
      },
      cwd: serviceDir,
      logFile,
      stopSignal: 'SIGTERM',
      log: opts.log,
    });
    proc = p;
    const client = new S3Client({
      endpoint: endpointOf(),
      region: REGION,
      credentials: { accessKeyId, secretAccessKey },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    try {
      await waitUntilReady({ service: 'minio', proc: p, timeoutMs: READY_TIMEOUT_MS, what: '/minio/health/ready' }, () => healthy(endpointOf()));
      await waitUntilReady({ service: 'minio', proc: p, timeoutMs: 15_000, what: `bucket ${bucket}` }, () => ensureBucket(client, bucket));
    } catch (err) {
      await p.stop();
      throw err;
    } finally {
      client.destroy();
    }
  };

  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (opts.port !== undefined || attempt >= 3 || !looksLikePortClash(err)) throw err;
      opts.log(`minio: port ${port} was taken, retrying on another port`);
      port = await getFreePort();
    }
  }

  const stop = async (): Promise<void> => {
    await proc?.stop();
  };
  const start = async (): Promise<void> => {
    if (proc?.running) return;
    await launch();
  };
  const handle: MinioHandle = {
    endpoint: endpointOf(),
    accessKeyId,
    secretAccessKey,
    region: REGION,
    bucket,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    get pid() {
      return proc?.running ? proc.pid : undefined;
    },
  };
  opts.log(`minio ready on ${handle.endpoint} (bucket ${bucket})`);
  return { handle, shutdown: stop };
}
