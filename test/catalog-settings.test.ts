// The REST catalog's settings and its refusals before any client is served: tokens required and validated,
// credential pairs whole, and a catalog whose Postgres does not answer says so with the spec's 503, no stack.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { buildCatalogApp } from '../src/catalog-server/server';
import { loadSettings } from '../src/config/settings';
import { getFreePort } from '../src/devstack/ports';
import { createFileIO } from '../src/iceberg';

const base = { DATABASE_URL: 'postgres://u:pw@127.0.0.1:1/db', CLICKHOUSE_URL: 'http://127.0.0.1:1', ICEBERG_WAREHOUSE: 's3://bucket/prefix' };
const load = (env: Record<string, string>) => loadSettings({ env: { ...base, ...env }, cwd: '/nonexistent' });

test('catalogServer settings: defaults, tokens from COLDTIER_CATALOG_TOKENS, weak tokens and half pairs refused', () => {
  const s = load({});
  assert.deepEqual(s.catalogServer, { port: 8181, host: '0.0.0.0', tokens: [] });
  const t = load({ COLDTIER_CATALOG_TOKENS: ' aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb ', COLDTIER_CATALOG_PORT: '9191', COLDTIER_CATALOG_WAREHOUSE: 'cold-wh' });
  assert.deepEqual(t.catalogServer.tokens, ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb']);
  assert.equal(t.catalogServer.port, 9191);
  assert.equal(t.catalogServer.warehouse, 'cold-wh');
  assert.throws(() => load({ COLDTIER_CATALOG_TOKENS: 'short' }), (e: Error) => /catalogServer\.tokens.*at least 16 characters/.test(e.message) && !e.message.includes('short,'));
  assert.throws(() => load({ COLDTIER_CATALOG_TLS_CERT: '/x.pem' }), /COLDTIER_CATALOG_TLS_CERT \(catalogServer\.tlsCertPath\) is set but COLDTIER_CATALOG_TLS_KEY/);
  assert.throws(() => load({ COLDTIER_CATALOG_VENDED_ACCESS_KEY_ID: 'AKIA' }), /COLDTIER_CATALOG_VENDED_SECRET_ACCESS_KEY \(catalogServer\.vendedSecretAccessKey\) is not/);
  assert.throws(() => load({ COLDTIER_CATALOG_PORT: '70000' }), /catalogServer\.port \(COLDTIER_CATALOG_PORT\)/);
});

test('coldtier catalog does not start without a token, and says which setting to set', () => {
  const r = spawnSync(process.execPath, [join('bin', 'coldtier.mjs'), 'catalog'], { env: { ...process.env, ...base, COLDTIER_CATALOG_TOKENS: '' }, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^coldtier: catalogServer\.tokens \(COLDTIER_CATALOG_TOKENS\) is empty: set at least one bearer token/);
});

test('a catalog whose Postgres does not answer: 503 in the spec shape, no stack, cause logged server-side', async () => {
  const pool = new pg.Pool({ connectionString: `postgres://u:secret-pw@127.0.0.1:${await getFreePort()}/db`, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  const logged: unknown[] = [];
  const token = 'a-token-of-enough-length';
  const app = buildCatalogApp({ pool, io: createFileIO({}), catalogName: 'c', tokens: [token], storage: { warehouse: 's3://b/p', s3Region: 'us-east-1' }, log: (err) => logged.push(err) });
  try {
    const res = await app.inject({ method: 'GET', url: '/v1/c/namespaces', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.statusCode, 503, res.body);
    assert.deepEqual(JSON.parse(res.body), { error: { message: "coldtier's catalog could not reach Postgres or the object store; retry later", type: 'ServiceUnavailableException', code: 503 } });
    assert.equal(logged.length, 1);
    assert.ok(!res.body.includes('secret-pw'));
  } finally {
    await app.close();
    await pool.end();
  }
});
