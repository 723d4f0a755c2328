// PLACEHOLDER written by the lead until the dev-stack helper delivers the real one; replace freely.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run the tests with npm test`);
  return v;
};
export function testStack() {
  return {
    temporalAddress: need('COLDTIER_TEST_TEMPORAL_ADDRESS'),
    s3Endpoint: need('COLDTIER_TEST_S3_ENDPOINT'),
    s3AccessKeyId: need('COLDTIER_TEST_S3_ACCESS_KEY_ID'),
    s3SecretAccessKey: need('COLDTIER_TEST_S3_SECRET_ACCESS_KEY'),
    s3Region: need('COLDTIER_TEST_S3_REGION'),
    s3Bucket: need('COLDTIER_TEST_S3_BUCKET'),
  };
}
export async function createTestDatabase(): Promise<string> {
  const admin = need('COLDTIER_TEST_PG_ADMIN_URL');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}
