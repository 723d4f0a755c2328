// The REST catalog's answers at the HTTP level: config, ETag/304, paging, and the spec's error for every refused
// write, bad token, unknown name and malformed request. Used by test/catalog-server.test.ts.
import assert from 'node:assert/strict';

export interface ErrorsCheck {
  url: string;
  token: string;
  warehouse: string;
  ns: string;
  table: string;
  /** Strings that must appear in no response (S3 secret, Postgres URL). */
  secrets: string[];
}

/** Runs the checks; returns the ETag of `table` as loaded now. */
export async function checkErrors(c: ErrorsCheck): Promise<string> {
  const texts: string[] = [];
  const call = async (method: string, path: string, opts: { token?: string | null; auth?: string; body?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.auth) headers.authorization = opts.auth;
    else if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? c.token}`;
    if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${c.url}${path}`, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
    const text = await res.text();
    texts.push(text);
    return { status: res.status, text, headers: res.headers, json: () => JSON.parse(text) as Record<string, unknown> };
  };
  /** The spec's IcebergErrorResponse: exactly {error: {message, type, code}}, code = status, no stack. */
  const expectError = async (status: number, type: string, method: string, path: string, opts: Parameters<typeof call>[2] = {}) => {
    const r = await call(method, path, opts);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    if (method === 'HEAD') return r;
    const body = r.json() as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body), ['error'], `${method} ${path}: the spec's error shape`);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'type'], `${method} ${path}: message, type, code only (no stack)`);
    assert.equal(body.error.type, type, `${method} ${path}: ${r.text}`);
    assert.equal(body.error.code, status);
    assert.doesNotMatch(r.text, /\n\s+at |\.ts:\d+/, 'no stack trace');
    return r;
  };
  const p = `/v1/${c.warehouse}`;
  const t = `${p}/namespaces/${c.ns}/tables/${c.table}`;

  const config = (await call('GET', `/v1/config?warehouse=${c.warehouse}`)).json() as { defaults: object; overrides: Record<string, string>; endpoints: string[] };
  assert.deepEqual(config.defaults, {});
  assert.equal(config.overrides.prefix, c.warehouse);
  assert.ok(config.endpoints.includes('GET /v1/{prefix}/namespaces/{namespace}/tables/{table}'));
  // Writes are listed so that clients send them and show the server's refusal (below), not a client-side guess.
  assert.ok(config.endpoints.includes('DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}'));

  // Authentication.
  await expectError(401, 'NotAuthorizedException', 'GET', '/v1/config', { token: null });
  const wrong = await expectError(401, 'NotAuthorizedException', 'GET', `${p}/namespaces`, { token: `${c.token.slice(0, -1)}x` });
  assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer/);
  await expectError(401, 'NotAuthorizedException', 'GET', t, { auth: `Basic ${Buffer.from(`u:${c.token}`).toString('base64')}` });
  await expectError(401, 'NotAuthorizedException', 'GET', '/v1/nothing-here', { token: 'wrong-token-wrong-token' });

  // Unknown names.
  await expectError(404, 'NoSuchWarehouseException', 'GET', '/v1/config?warehouse=elsewhere');
  await expectError(404, 'NoSuchWarehouseException', 'GET', '/v1/elsewhere/namespaces');
  await expectError(404, 'NoSuchTableException', 'GET', `${p}/namespaces/${c.ns}/tables/no_such_table`);
  await expectError(404, 'NoSuchTableException', 'HEAD', `${p}/namespaces/${c.ns}/tables/no_such_table`);
  await expectError(404, 'NoSuchNamespaceException', 'GET', `${p}/namespaces/no_such_ns/tables`);
  await expectError(404, 'NoSuchNamespaceException', 'GET', `${p}/namespaces/no_such_ns`);
  await expectError(404, 'NoSuchNamespaceException', 'HEAD', `${p}/namespaces/no_such_ns`);
  await expectError(404, 'NoSuchNamespaceException', 'GET', `${p}/namespaces?parent=no_such_ns`);
  await expectError(404, 'NotFoundException', 'GET', '/v2/whatever');
  assert.equal((await call('HEAD', t)).status, 204);
  assert.equal((await call('HEAD', `${p}/namespaces/${c.ns}`)).status, 204);
  assert.deepEqual((await call('GET', `${p}/namespaces/${c.ns}`)).json().namespace, [c.ns]);

  // Malformed requests.
  await expectError(400, 'BadRequestException', 'GET', `${t}?snapshots=some`);
  await expectError(400, 'BadRequestException', 'GET', `${p}/namespaces/${c.ns}/tables?pageSize=0`);
  await expectError(400, 'BadRequestException', 'GET', `${p}/namespaces/${c.ns}/tables?pageSize=many`);
  await expectError(400, 'BadRequestException', 'GET', `${p}/namespaces/${c.ns}%1F/tables`);
  await expectError(400, 'BadRequestException', 'POST', t, { body: '{"requirements": [' });
  const oauth = await call('POST', '/v1/oauth/tokens', { token: null, body: 'grant_type=client_credentials&client_id=a&client_secret=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(oauth.status, 400);
  assert.equal(oauth.json().error, 'unsupported_grant_type');

  // Writes: refused, whatever the body.
  const commit = JSON.stringify({ requirements: [{ type: 'assert-create' }], updates: [] });
  const refused: [string, string, string?][] = [
    ['POST', `${p}/namespaces/${c.ns}/tables`, JSON.stringify({ name: 'intruder', schema: { type: 'struct', fields: [] } })],
    ['POST', t, commit],
    ['DELETE', t],
    ['DELETE', `${t}?purgeRequested=true`],
    ['POST', `${p}/tables/rename`, JSON.stringify({ source: { namespace: [c.ns], name: c.table }, destination: { namespace: [c.ns], name: 'renamed' } })],
    ['POST', `${p}/namespaces`, JSON.stringify({ namespace: ['intruders'] })],
    ['DELETE', `${p}/namespaces/${c.ns}`],
    ['POST', `${p}/namespaces/${c.ns}/properties`, JSON.stringify({ updates: { owner: 'me' } })],
    ['POST', `${p}/namespaces/${c.ns}/register`, JSON.stringify({ name: 'x', 'metadata-location': 's3://x/y.json' })],
    ['POST', `${p}/transactions/commit`, JSON.stringify({ 'table-changes': [] })],
  ];
  for (const [method, path, body] of refused) {
    const r = await expectError(403, 'ForbiddenException', method, path, body === undefined ? {} : { body });
    assert.match(String((r.json().error as { message: string }).message), /coldtier owns these tables/);
  }

  // Load table: config for the files, ETag, 304 for If-None-Match, refs-only snapshots.
  const load = await call('GET', t);
  assert.equal(load.status, 200);
  const loaded = load.json() as { 'metadata-location': string; metadata: { snapshots: unknown[] }; config: Record<string, string> };
  assert.match(loaded['metadata-location'], /\.metadata\.json$/);
  assert.equal(loaded.config['s3.path-style-access'], 'true');
  assert.ok(loaded.config['s3.endpoint'] && loaded.config['client.region']);
  assert.ok(!('s3.secret-access-key' in loaded.config) && !('storage-credentials' in loaded), 'no keys without credential vending');
  const etag = load.headers.get('etag')!;
  assert.match(etag, /^"[0-9a-f]+"$/);
  for (const inm of [etag, `W/${etag}`, `"other", ${etag}`]) {
    const again = await call('GET', t, { headers: { 'if-none-match': inm } });
    assert.equal(again.status, 304, inm);
    assert.equal(again.text, '');
    assert.equal(again.headers.get('etag'), etag);
  }
  assert.equal((await call('GET', t, { headers: { 'if-none-match': '"other"' } })).status, 200);
  const refs = await call('GET', `${t}?snapshots=refs`, { headers: { 'if-none-match': etag } });
  assert.equal(refs.status, 200, 'snapshots=refs is a different representation');
  assert.equal((refs.json() as typeof loaded).metadata.snapshots.length, 1, 'only the snapshot main points at');
  assert.ok(loaded.metadata.snapshots.length >= 2);

  // Paging: one table per page, following next-page-token, lists every table once.
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = (await call('GET', `${p}/namespaces/${c.ns}/tables?pageSize=1${token ? `&pageToken=${token}` : ''}`)).json() as { identifiers: { name: string }[]; 'next-page-token'?: string };
    names.push(...page.identifiers.map((i) => i.name));
    token = page['next-page-token'];
  } while (token);
  const all = (await call('GET', `${p}/namespaces/${c.ns}/tables`)).json() as { identifiers: { name: string }[] };
  assert.deepEqual(names, all.identifiers.map((i) => i.name));

  for (const s of c.secrets) assert.ok(!texts.some((x) => x.includes(s)), 'no response carries a secret');
  return etag;
}
