// The REST catalog's deployment options as a real process: HTTPS from a certificate, credential vending (PyIceberg
// reads with no S3 keys of its own, only the vended ones), and the catalog served by `coldtier worker --catalog-port`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { startOffload } from '../src/cli/offload';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { createWorker, openServices } from '../src/worker';
import { restReaders, sourceFacts, startCatalogProcess, type Facts } from './catalog/helpers';
import { bronzeTable, makeTestEnv } from './helpers/coldtier';

test('REST catalog over HTTPS with vended read keys; coldtier worker --catalog-port serves it too', async () => {
  const env = await makeTestEnv({ warehouse: 's3', tables: (tag) => [bronzeTable(`tls_t${tag}`)] });
  const { settings } = env;
  const table = settings.tables[0]!.name;
  const check = { name: table, key: ['exchange', 'sequence', 'trade_id'], sums: ['price', 'quantity'] };
  const token = randomBytes(24).toString('hex');
  const services = await openServices(settings);
  let source: Facts;
  try {
    await createBronzeTable(services.ch, table);
    await insertTrades(services.ch, table, { rows: 800, exchange: 'binance', spreadSeconds: 86_400, seed: 31 });
    await (await createWorker(settings, { services })).runUntil(async () => {
      const log = console.log;
      console.log = () => undefined;
      try {
        assert.equal((await startOffload(settings, { wait: true, json: true }))!.status, 'ok');
      } finally {
        console.log = log;
      }
    });
    source = await sourceFacts(services.ch, table, check);
  } finally {
    await services.close();
  }

  // A self-signed certificate for 127.0.0.1; the reader trusts exactly it.
  const cert = join(env.dir, 'catalog.crt');
  const key = join(env.dir, 'catalog.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  // In production the vended pair is a separate read-only key; the test's MinIO has one user, so it vends that.
  const catalog = await startCatalogProcess(env, token, {
    COLDTIER_CATALOG_TLS_CERT: cert,
    COLDTIER_CATALOG_TLS_KEY: key,
    COLDTIER_CATALOG_VENDED_ACCESS_KEY_ID: settings.s3.accessKeyId!,
    COLDTIER_CATALOG_VENDED_SECRET_ACCESS_KEY: settings.s3.secretAccessKey!,
  });
  try {
    assert.match(catalog.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    // No S3 settings on the reader's side at all: endpoint, region, path style and keys all come from the catalog.
    const py = await restReaders<{ tables: string[]; scans: Record<string, Facts> }>(
      'pyiceberg',
      { uri: catalog.url, token, warehouse: settings.catalog.name, namespace: settings.catalog.namespace, tables: [check] },
      { REQUESTS_CA_BUNDLE: cert, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
    );
    assert.deepEqual(py.tables, [table]);
    const { rows, keyHash, sums } = py.scans[table]!;
    assert.deepEqual({ rows, keyHash, sums }, source, 'PyIceberg over HTTPS with vended keys reads the source rows');
    // Plain HTTP to the TLS port gets nothing.
    await assert.rejects(fetch(`${catalog.url.replace('https:', 'http:')}/v1/config`, { headers: { authorization: `Bearer ${token}` } }));
  } finally {
    await catalog.stop();
  }

  // The same catalog from inside a worker process (its own chDB directory: the catalog needs no ClickHouse data).
  const worker = await startCatalogProcess(env, token, { CLICKHOUSE_URL: `chdb://${join(env.dir, 'chdb-worker')}` }, ['worker', '--catalog-port']);
  try {
    const res = await fetch(`${worker.url}/v1/${settings.catalog.name}/namespaces/${settings.catalog.namespace}/tables`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, worker.output());
    assert.deepEqual(((await res.json()) as { identifiers: { name: string }[] }).identifiers.map((i) => i.name), [table]);
  } finally {
    await worker.stop();
  }
});
