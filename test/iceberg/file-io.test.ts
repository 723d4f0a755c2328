// FileIO against real storage: the local filesystem, and S3 on MinIO (the
// shared test stack's MinIO under `npm test`, else a MinIO started here from
// .tools/bin/minio; skipped if neither exists).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { createFileIO, FileIOError, IcebergPathError, joinUri, type FileIO, type S3Settings } from '../../src/iceberg';
import { tempDir } from './helpers';

describe('joinUri', () => {
  it('joins relative parts under the base', () => {
    assert.equal(joinUri('s3://bucket/wh/', 'cold', 'trades'), 's3://bucket/wh/cold/trades');
    assert.equal(joinUri('file:///tmp/wh', 'a/b', 'c.parquet'), 'file:///tmp/wh/a/b/c.parquet');
    assert.equal(joinUri('s3://bucket', 'x=a%2Fb'), 's3://bucket/x=a%2Fb');
    assert.equal(joinUri('file:///', 'tmp'), 'file:///tmp');
  });
  it('refuses anything that would escape the base', () => {
    for (const bad of ['..', '../x', 'a/../../b', './a', '/etc/passwd', 's3://other/key', 'a\\b', 'file:///etc']) {
      assert.throws(() => joinUri('s3://bucket/wh', bad), IcebergPathError, bad);
    }
  });
});

async function exercise(io: FileIO, base: string): Promise<void> {
  const small = new TextEncoder().encode('{"hello":"iceberg"}');
  const a = joinUri(base, 'metadata', '00001-a.metadata.json');
  const b = joinUri(base, 'data', 'day=2026-11-22', 'f.parquet');
  assert.equal(await io.exists(a), false);
  await io.write(a, small);
  await io.write(b, new Uint8Array([1, 2, 3]));
  assert.equal(await io.exists(a), true);
  assert.deepEqual(await io.read(a), small);
  const listed = (await io.list(base)).sort((x, y) => x.uri.localeCompare(y.uri));
  assert.deepEqual(listed.map((f) => [f.uri, f.size]), [[b, 3], [a, small.length]]);
  assert.ok(listed.every((f) => f.lastModified instanceof Date && f.lastModified.getTime() > 0));
  // A sibling directory with the same prefix is not part of the listing.
  await io.write(`${base}-sibling/x`, small);
  assert.equal((await io.list(base)).length, 2);
  // listNames: only direct children of the directory, by name prefix.
  assert.deepEqual(await io.listNames(joinUri(base, 'metadata'), '00001-'), [a]);
  assert.deepEqual(await io.listNames(joinUri(base, 'metadata'), '00002-'), []);
  assert.deepEqual(await io.listNames(base, 'data'), []);
  assert.deepEqual(await io.listNames(joinUri(base, 'nothing-here'), ''), []);
  await io.delete(a);
  await io.delete(a); // missing is fine
  assert.equal(await io.exists(a), false);
  await assert.rejects(io.read(a), FileIOError);
  assert.deepEqual(await io.list(joinUri(base, 'nothing-here')), []);
}

describe('local FileIO', () => {
  it('writes, reads, lists recursively and deletes', async () => {
    await exercise(createFileIO({}), `file://${tempDir('io')}/table`);
  });
  it('says an s3:// URI needs settings', async () => {
    await assert.rejects(createFileIO({}).read('s3://b/k'), /needs S3 settings/);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

describe('S3 FileIO (MinIO)', () => {
  let settings: S3Settings | undefined;
  let bucket = 'coldtier-iceberg-test';
  let minio: ChildProcess | undefined;
  const binary = join(process.cwd(), '.tools', 'bin', 'minio');

  before(async () => {
    const env = process.env;
    if (env.COLDTIER_TEST_S3_ENDPOINT && env.COLDTIER_TEST_S3_BUCKET) {
      settings = {
        endpoint: env.COLDTIER_TEST_S3_ENDPOINT,
        region: env.COLDTIER_TEST_S3_REGION ?? 'us-east-1',
        accessKeyId: env.COLDTIER_TEST_S3_ACCESS_KEY_ID,
        secretAccessKey: env.COLDTIER_TEST_S3_SECRET_ACCESS_KEY,
        forcePathStyle: true,
      };
      bucket = env.COLDTIER_TEST_S3_BUCKET;
      return;
    }
    if (!existsSync(binary)) return;
    const port = await freePort();
    const console_ = await freePort();
    minio = spawn(binary, ['server', tempDir('minio'), '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${console_}`], {
      env: { ...env, MINIO_ROOT_USER: 'coldtier', MINIO_ROOT_PASSWORD: 'coldtier-secret' },
      stdio: 'ignore',
    });
    settings = { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKeyId: 'coldtier', secretAccessKey: 'coldtier-secret', forcePathStyle: true };
    const client = new S3Client({ endpoint: settings.endpoint, region: settings.region, forcePathStyle: true, credentials: { accessKeyId: 'coldtier', secretAccessKey: 'coldtier-secret' } });
    for (let i = 0; ; i++) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    client.destroy();
  });
  after(() => {
    minio?.kill('SIGTERM');
  });

  const need = (): S3Settings => {
    assert.ok(settings, 'no MinIO: run the tests through npm test (which starts one) or install .tools/bin/minio');
    return settings;
  };

  it('writes, reads, lists recursively and deletes', async () => {
    await exercise(createFileIO({ s3: need() }), `s3://${bucket}/iceberg-io-${Date.now()}/table`);
  });

  it('uploads large bodies in parts and reads them back intact', async () => {
    const io = createFileIO({ s3: { ...need(), multipartThresholdBytes: 1024 } });
    const body = new Uint8Array(9 * 1024 * 1024 + 123); // more than one 8 MiB part
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const uri = `s3://${bucket}/iceberg-io-${Date.now()}/big.parquet`;
    await io.write(uri, body);
    assert.deepEqual(await io.read(uri), body);
    await io.delete(uri);
  });

  it('aborts multipart uploads a dead writer left unfinished, only when older than the cutoff', async () => {
    const s = need();
    const io = createFileIO({ s3: s });
    const client = new S3Client({ endpoint: s.endpoint, region: s.region, forcePathStyle: true, credentials: { accessKeyId: s.accessKeyId!, secretAccessKey: s.secretAccessKey! } });
    const prefix = `iceberg-io-${Date.now()}/table`;
    const key = `${prefix}/data/killed-mid-upload.parquet`;
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: new Uint8Array(5 * 1024 * 1024) }));
    const open = async () => (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads?.length ?? 0;
    assert.equal(await open(), 1);
    assert.deepEqual(await io.list(`s3://${bucket}/${prefix}`), [], 'no object a listing could find');
    assert.deepEqual(await io.abortStaleUploads(`s3://${bucket}/${prefix}`, new Date(Date.now() - 3_600_000)), [], 'younger than the cutoff: kept');
    assert.deepEqual(await io.abortStaleUploads(`s3://${bucket}/${prefix}`, new Date(Date.now() + 60_000), true), [`s3://${bucket}/${key}`], 'dry run names it');
    assert.equal(await open(), 1);
    assert.deepEqual(await io.abortStaleUploads(`s3://${bucket}/${prefix}`, new Date(Date.now() + 60_000)), [`s3://${bucket}/${key}`]);
    assert.equal(await open(), 0);
    client.destroy();
  });
});
