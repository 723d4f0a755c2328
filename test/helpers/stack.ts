// Coordinates of the shared dev stack started by scripts/run-tests.ts (`npm test`).
import { randomBytes } from 'node:crypto';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import pg from 'pg';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run tests through \`npm test\` (scripts/run-tests.ts starts the shared Temporal/PostgreSQL/MinIO stack).`);
  }
  return value;
}

/** host:port of the Temporal frontend (namespace `default`). */
export const temporalAddress = (): string => required('COLDTIER_TEST_TEMPORAL_ADDRESS');
/** http://host:port of the dev server's Web UI; undefined when the stack runs the server headless. */
export const temporalUiUrl = (): string | undefined => process.env.COLDTIER_TEST_TEMPORAL_UI_URL || undefined;
/** Superuser URL of the `postgres` database; prefer createTestDatabase() for test data. */
export const pgAdminUrl = (): string => required('COLDTIER_TEST_PG_ADMIN_URL');
export const s3Endpoint = (): string => required('COLDTIER_TEST_S3_ENDPOINT');
export const s3AccessKeyId = (): string => required('COLDTIER_TEST_S3_ACCESS_KEY_ID');
export const s3SecretAccessKey = (): string => required('COLDTIER_TEST_S3_SECRET_ACCESS_KEY');
export const s3Region = (): string => required('COLDTIER_TEST_S3_REGION');
/** The bucket shared by all tests: put each test's objects under its own uniquePrefix(). */
export const s3Bucket = (): string => required('COLDTIER_TEST_S3_BUCKET');
/** The stack's directory (logs in <dir>/logs). */
export const stackDir = (): string => required('COLDTIER_TEST_STACK_DIR');

export interface TestStack {
  temporalAddress: string;
  pgAdminUrl: string;
  s3Endpoint: string;
  s3AccessKeyId: string;
  s3SecretAccessKey: string;
  s3Region: string;
  s3Bucket: string;
  dir: string;
}

/** All coordinates at once; throws a helpful error outside `npm test`. */
export function testStack(): TestStack {
  return {
    temporalAddress: temporalAddress(),
    pgAdminUrl: pgAdminUrl(),
    s3Endpoint: s3Endpoint(),
    s3AccessKeyId: s3AccessKeyId(),
    s3SecretAccessKey: s3SecretAccessKey(),
    s3Region: s3Region(),
    s3Bucket: s3Bucket(),
    dir: stackDir(),
  };
}

/** Config for `new S3Client(...)` against the test MinIO (path-style addressing). */
export function s3ClientConfig(): S3ClientConfig {
  return {
    endpoint: s3Endpoint(),
    region: s3Region(),
    credentials: { accessKeyId: s3AccessKeyId(), secretAccessKey: s3SecretAccessKey() },
    forcePathStyle: true,
  };
}

/** A short random name fragment: `<prefix>_<12 hex>` (valid as a database name or S3 key prefix). */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** CREATE DATABASE with a random name on the shared PostgreSQL; returns its URL. */
export async function createTestDatabase(prefix = 'test'): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`invalid database name prefix ${JSON.stringify(prefix)}`);
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: pgAdminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}
