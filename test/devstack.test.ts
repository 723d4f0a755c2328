import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { findTool, startStack, ToolMissingError } from '../src/devstack/index';
import { createTestDatabase, s3Bucket, s3ClientConfig, stackDir, temporalAddress, uniqueName } from './helpers/stack';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('shared stack: Temporal describes the default namespace', async () => {
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    const res = await connection.workflowService.describeNamespace({ namespace: 'default' });
    assert.equal(res.namespaceInfo?.name, 'default');
  } finally {
    await connection.close();
  }
});

test('shared stack: PostgreSQL answers SELECT 1 on a fresh database', async () => {
  const url = await createTestDatabase('devstack');
  const rows = await query<{ one: number; db: string }>(url, 'SELECT 1 AS one, current_database() AS db');
  assert.equal(rows[0]?.one, 1);
  assert.match(rows[0]?.db ?? '', /^devstack_[0-9a-f]{12}$/);
});

test('shared stack: MinIO stores and returns an object', async () => {
  const s3 = new S3Client(s3ClientConfig());
  try {
    const key = `${uniqueName('devstack')}/hello.txt`;
    const body = `hello ${randomBytes(4).toString('hex')}`;
    await s3.send(new PutObjectCommand({ Bucket: s3Bucket(), Key: key, Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: s3Bucket(), Key: key }));
    assert.equal(await got.Body?.transformToString(), body);
  } finally {
    s3.destroy();
  }
});

test('findTool: a bad env override gives an actionable ToolMissingError', () => {
  const saved = { minio: process.env.COLDTIER_MINIO_BIN, pg: process.env.COLDTIER_PG_BINDIR };
  try {
    process.env.COLDTIER_MINIO_BIN = '/nonexistent/coldtier/minio';
    assert.throws(
      () => findTool('minio'),
      (err: unknown) =>
        err instanceof ToolMissingError &&
        err.tool === 'minio' &&
        err.message.includes('COLDTIER_MINIO_BIN=/nonexistent/coldtier/minio') &&
        err.message.includes('bash scripts/ensure-tools.sh') &&
        err.message.includes('go install github.com/minio/minio@'),
    );
    process.env.COLDTIER_PG_BINDIR = '/nonexistent/coldtier/pgbin';
    assert.throws(
      () => findTool('initdb'),
      (err: unknown) =>
        err instanceof ToolMissingError && err.message.includes('COLDTIER_PG_BINDIR') && err.message.includes('apt-get install -y postgresql'),
    );
  } finally {
    for (const [name, value] of [['COLDTIER_MINIO_BIN', saved.minio], ['COLDTIER_PG_BINDIR', saved.pg]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test('startStack: PostgreSQL and MinIO restart on the same port with their data, and stop leaves no process', async () => {
  // Inside the shared stack dir, so an interrupted run leaves nothing else behind.
  const dir = join(stackDir(), uniqueName('devstack_own'));
  const stack = await startStack({ dir, postgres: true, minio: { bucket: 'restart-test' } });
  try {
    const { postgres, minio } = stack;
    assert.ok(postgres && minio);
    const s3 = new S3Client({
      endpoint: minio.endpoint,
      region: minio.region,
      credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    try {
      await s3.send(new PutObjectCommand({ Bucket: minio.bucket, Key: 'k', Body: 'v1' }));
      const firstMinioPid = minio.pid;
      await minio.stop();
      assert.equal(minio.pid, undefined);
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: minio.bucket, Key: 'k' })));
      await minio.start();
      assert.notEqual(minio.pid, firstMinioPid);
      const got = await s3.send(new GetObjectCommand({ Bucket: minio.bucket, Key: 'k' }));
      assert.equal(await got.Body?.transformToString(), 'v1');
    } finally {
      s3.destroy();
    }

    const url = await postgres.createDatabase('restart_test');
    await query(url, 'CREATE TABLE t (x int); INSERT INTO t VALUES (42)');
    await postgres.restart();
    const rows = await query<{ x: number }>(url, 'SELECT x FROM t');
    assert.deepEqual(rows, [{ x: 42 }]);

    const pids = [postgres.pid, minio.pid].filter((p): p is number => p !== undefined);
    assert.equal(pids.length, 2);
    await stack.stop();
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still running after stop()`);
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
