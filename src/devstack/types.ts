export interface StackOptions {
  /** Directory owned by the stack: logs/, and one data subdirectory per service (wiped at start). */
  dir: string;
  temporal?: boolean | { port?: number; uiPort?: number };
  postgres?: boolean | { port?: number };
  minio?: boolean | { port?: number; bucket?: string };
  /** Progress messages (never contain secrets). Default: silent. */
  log?: (msg: string) => void;
}

export interface TemporalHandle {
  /** host:port of the frontend gRPC service. */
  address: string;
  uiUrl: string;
  namespace: 'default';
  /** Stop the dev server; its SQLite state stays (for fault tests). */
  stop(): Promise<void>;
  /** Start it again on the same ports and state file. */
  start(): Promise<void>;
  restart(): Promise<void>;
  readonly pid: number | undefined;
}

export interface PostgresHandle {
  /** URL of the `coldtier` database (created at startup). */
  url: string;
  port: number;
  /** Superuser URL of the `postgres` maintenance database. */
  adminUrl: string;
  /** CREATE DATABASE <name> (lowercase letters, digits, underscore); returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stop the server (fast shutdown); data stays (for fault tests). */
  stop(): Promise<void>;
  /** Start it again on the same port and data dir; resolves when it answers SELECT 1. */
  start(): Promise<void>;
  restart(): Promise<void>;
  readonly pid: number | undefined;
}

export interface MinioHandle {
  /** http://127.0.0.1:port — use forcePathStyle: true with the AWS SDK. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  bucket: string;
  /** Stop the server; objects stay (for fault tests). */
  stop(): Promise<void>;
  /** Restart on the same port and data dir; resolves when healthy. */
  start(): Promise<void>;
  restart(): Promise<void>;
  readonly pid: number | undefined;
}

export interface RunningStack {
  dir: string;
  temporal?: TemporalHandle;
  postgres?: PostgresHandle;
  minio?: MinioHandle;
  /** Stop every server (graceful, then SIGKILL). Idempotent. Leaves `dir` in place. */
  stop(): Promise<void>;
}

/** Internal: a started service and how to tear it down for good. */
export interface Started<T> {
  handle: T;
  shutdown(): Promise<void>;
}
