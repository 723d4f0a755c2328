import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { FileIOError } from '../errors';
import type { FileInfo, FileIO, S3Settings } from './file-io';
import { parseUri } from './uri';

const DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024;

function s3Address(uri: string): { bucket: string; key: string } {
  const parsed = parseUri(uri);
  if (parsed.scheme !== 's3') throw new FileIOError(uri, 'resolve', { cause: new Error('not an s3:// URI') });
  return parsed;
}

/** `key` as a directory prefix: with a trailing `/`, so `t/a` never matches `t/ab/…` (the bucket root stays ''). */
const dirKey = (key: string) => (key === '' || key.endsWith('/') ? key : `${key}/`);

function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/** FileIO for `s3://bucket/key` URIs (AWS S3 or an S3-compatible store such as MinIO). */
export function createS3FileIO(settings: S3Settings): FileIO {
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle ?? false,
    ...(settings.accessKeyId && settings.secretAccessKey
      ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
      : {}),
  });
  const threshold = settings.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD;

  return {
    async write(uri, data, opts) {
      const { bucket, key } = s3Address(uri);
      const signal = opts?.signal;
      if (signal?.aborted) throw signal.reason;
      try {
        if (data.byteLength < threshold) {
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }), signal ? { abortSignal: signal } : {});
        } else {
          // Upload aborts the multipart upload itself when a part fails or it is
          // aborted, so no orphaned parts are left billing in the bucket.
          const abortController = new AbortController();
          const abort = () => abortController.abort();
          signal?.addEventListener('abort', abort, { once: true });
          try {
            await new Upload({ client, params: { Bucket: bucket, Key: key, Body: data }, partSize: 8 * 1024 * 1024, queueSize: 4, abortController }).done();
          } finally {
            signal?.removeEventListener('abort', abort);
          }
        }
      } catch (cause) {
        if (signal?.aborted) throw signal.reason;
        throw new FileIOError(uri, 'write', { cause });
      }
    },
    async read(uri) {
      const { bucket, key } = s3Address(uri);
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!res.Body) throw new Error('empty body');
        return await res.Body.transformToByteArray();
      } catch (cause) {
        throw new FileIOError(uri, 'read', { cause });
      }
    },
    async exists(uri) {
      const { bucket, key } = s3Address(uri);
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (cause) {
        if (isNotFound(cause)) return false;
        throw new FileIOError(uri, 'exists', { cause });
      }
    },
    async delete(uri) {
      const { bucket, key } = s3Address(uri);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (cause) {
        if (isNotFound(cause)) return;
        throw new FileIOError(uri, 'delete', { cause });
      }
    },
    async list(prefixUri) {
      const { bucket, key } = s3Address(prefixUri);
      const prefix = dirKey(key);
      const out: FileInfo[] = [];
      let token: string | undefined;
      try {
        do {
          const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
          for (const obj of res.Contents ?? []) {
            if (obj.Key === undefined) continue;
            out.push({ uri: `s3://${bucket}/${obj.Key}`, size: obj.Size ?? 0, lastModified: obj.LastModified ?? new Date(0) });
          }
          token = res.IsTruncated ? res.NextContinuationToken : undefined;
        } while (token);
      } catch (cause) {
        throw new FileIOError(prefixUri, 'list', { cause });
      }
      return out;
    },
    async abortStaleUploads(prefixUri, olderThan, dryRun = false) {
      const { bucket, key } = s3Address(prefixUri);
      const prefix = dirKey(key);
      const aborted: string[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      try {
        for (;;) {
          // The whole bucket's uploads, filtered here: MinIO only honours a Prefix that is a complete object key.
          const res = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
          for (const u of res.Uploads ?? []) {
            if (!u.Key?.startsWith(prefix) || !u.UploadId || !u.Initiated || u.Initiated >= olderThan) continue;
            if (!dryRun) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
            aborted.push(`s3://${bucket}/${u.Key}`);
          }
          if (!res.IsTruncated) break;
          keyMarker = res.NextKeyMarker;
          uploadIdMarker = res.NextUploadIdMarker;
        }
      } catch (cause) {
        throw new FileIOError(prefixUri, 'abort stale uploads', { cause });
      }
      return aborted;
    },
    async listNames(dirUri, namePrefix) {
      const { bucket, key } = s3Address(dirUri);
      const dir = dirKey(key);
      const out: string[] = [];
      let token: string | undefined;
      try {
        do {
          const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${dir}${namePrefix}`, Delimiter: '/', ContinuationToken: token }));
          for (const obj of res.Contents ?? []) if (obj.Key !== undefined) out.push(`s3://${bucket}/${obj.Key}`);
          token = res.IsTruncated ? res.NextContinuationToken : undefined;
        } while (token);
      } catch (cause) {
        throw new FileIOError(dirUri, 'list', { cause });
      }
      return out;
    },
  };
}
