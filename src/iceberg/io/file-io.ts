import { IcebergPathError } from '../errors';
import { createLocalFileIO } from './local-file-io';
import { createS3FileIO } from './s3-file-io';
import { parseUri } from './uri';

export interface WriteOptions {
  /** Cancels the write. @default none */
  signal?: AbortSignal;
}

export interface FileInfo {
  uri: string;
  size: number;
  lastModified: Date;
}

/**
 * Storage behind the Iceberg writer. Iceberg files are write-once, so there is
 * no update or rename: every name carries a UUID.
 */
export interface FileIO {
  /**
   * Writes the whole object. Local writes are atomic (temp file + rename); S3 uses multipart for large bodies.
   * An aborted `signal` cancels the upload (an unfinished multipart upload is aborted) and rejects with its reason;
   * whether an object landed is then unknown, as after any failed write.
   */
  write(uri: string, data: Uint8Array, opts?: WriteOptions): Promise<void>;
  read(uri: string): Promise<Uint8Array>;
  exists(uri: string): Promise<boolean>;
  /** Deletes one object; a missing object is not an error. */
  delete(uri: string): Promise<void>;
  /** Recursively lists everything under `prefixUri`, treated as a directory (a trailing `/` is implied). */
  list(prefixUri: string): Promise<FileInfo[]>;
  /** URIs of the files directly in directory `dirUri` whose name starts with `namePrefix` (one cheap listing). */
  listNames(dirUri: string, namePrefix: string): Promise<string[]>;
  /**
   * Aborts unfinished multipart uploads under `prefixUri` started before `olderThan` (a writer died mid-upload: the
   * parts are stored, and billed, but no object exists for a listing to find). Returns the keys aborted (dry run:
   * the keys that would be). Local storage has none: a local write is a temp file renamed into place.
   */
  abortStaleUploads(prefixUri: string, olderThan: Date, dryRun?: boolean): Promise<string[]>;
}

export interface S3Settings {
  /** Custom endpoint such as MinIO's `http://127.0.0.1:9000`. @default AWS endpoint for `region` */
  endpoint?: string;
  region: string;
  /** @default the AWS SDK default credential chain */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by MinIO. @default false */
  forcePathStyle?: boolean;
  /** Bodies at or above this size are uploaded in parts. @default 16 MiB */
  multipartThresholdBytes?: number;
}

/** One FileIO that dispatches on the URI scheme: `s3://` (needs `opts.s3`) and `file://`. */
export function createFileIO(opts: { s3?: S3Settings }): FileIO {
  const local = createLocalFileIO();
  let s3: FileIO | undefined;
  const pick = (uri: string): FileIO => {
    if (parseUri(uri).scheme === 'file') return local;
    if (!opts.s3) throw new IcebergPathError(uri, 'an s3:// URI needs S3 settings in createFileIO({ s3 })');
    s3 ??= createS3FileIO(opts.s3);
    return s3;
  };
  // async so a bad URI is a rejected promise like any other I/O failure, not a synchronous throw.
  return {
    write: async (uri, data) => pick(uri).write(uri, data),
    read: async (uri) => pick(uri).read(uri),
    exists: async (uri) => pick(uri).exists(uri),
    delete: async (uri) => pick(uri).delete(uri),
    list: async (prefixUri) => pick(prefixUri).list(prefixUri),
    listNames: async (dirUri, namePrefix) => pick(dirUri).listNames(dirUri, namePrefix),
    abortStaleUploads: async (prefixUri, olderThan, dryRun) => pick(prefixUri).abortStaleUploads(prefixUri, olderThan, dryRun),
  };
}
