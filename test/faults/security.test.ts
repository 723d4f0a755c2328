// Security checks of the fault suite: secrets never leak into logs, workflow inputs/results/histories, schedules, what
// the Web UI serves, audit rows or table metadata, nor into the committed replay histories; SQL identifiers come only from validated config and values only as bound parameters; storage keys
// never escape the table location; TLS and API-key options exist, are documented and are really used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import pg from 'pg';
import { createActivities } from '../../src/activities';
import { loadTable } from '../../src/iceberg';
import { openClickHouse, quote } from '../../src/clickhouse/client';
import { loadSettings } from '../../src/config/settings';
import { tableConfigSchema } from '../../src/config/tables';
import { openPool } from '../../src/db/pool';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { IcebergPathError, joinUri, listDataFiles, normalizeUri } from '../../src/iceberg';
import { scheduleIds } from '../../src/schedules/definitions';
import { connectClient } from '../../src/temporal/connection';
import { bronzeTable } from '../helpers/coldtier';
import { createTestDatabase, pgAdminUrl, temporalUiUrl } from '../helpers/stack';
import { harness, report, runCli } from './helpers';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The texts of protobuf JSON (the Web UI server's API, the recorded histories): the JSON itself, then the bytes of every
 * payload (its `data` and `metadata` values, base64 in protobuf JSON) decoded.
 */
function jsonTexts(value: unknown): string[] {
  const decoded: string[] = [];
  const walk = (v: unknown, key: string, inMetadata: boolean): unknown => {
    if (typeof v === 'string' && (key === 'data' || inMetadata)) {
      const bytes = Buffer.from(v, 'base64');
      if (bytes.toString('base64').replace(/=+$/, '') !== v.replace(/=+$/, '')) return v;
      decoded.push(bytes.toString('utf8'));
      return '<decoded>';
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, key, false));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k, key === 'metadata')]));
    return v;
  };
  return [JSON.stringify(walk(value, '', false)), ...decoded];
}

/**
 * JSON of anything from the Temporal client, with payload bytes shown both as text and as base64. Protobuf messages
 * (a description's `raw`) turn their bytes into base64 themselves (toJSON), so those are decoded afterwards.
 */
function dump(value: unknown): string {
  const json = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return `${Buffer.from(v).toString('utf8')} ${Buffer.from(v).toString('base64')}`;
    if (typeof v === 'bigint') return v.toString();
    return v;
  });
  return [json, ...jsonTexts(JSON.parse(json)).slice(1)].join('\n');
}

/** What a credential looks like, for text recorded with secrets this run cannot know (the committed histories). */
const CREDENTIALS: Record<string, RegExp> = {
  'a secret-named JSON field with a value': /"(?:password|passwd|secret|secretAccessKey|secret_access_key|apiKey|api_key|token|accessToken|privateKey)"\s*:\s*"(?!\*\*\*")[^"]+"/i,
  'a secret-named variable with a value': /\b(?:AWS_SECRET_ACCESS_KEY|CLICKHOUSE_PASSWORD|PGPASSWORD|MINIO_ROOT_PASSWORD|TEMPORAL_API_KEY)=(?!\*\*\*|\.\.\.)[^\s"',;]+/,
  'a URL with a password': /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"'<>]+:(?!\*\*\*@)[^\s/@"'<>]+@/i,
  'an AWS access key id': /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/,
  'an AWS secret access key': /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}\d)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/,
  'a dev-stack MinIO secret key (48 hex digits)': /(?<![0-9a-f])[0-9a-f]{48}(?![0-9a-f])/,
};
const credentials = (text: string): string[] => Object.entries(CREDENTIALS).flatMap(([what, re]) => (re.test(text) ? [what] : []));

test('the committed replay histories (test/histories/*.json) hold nothing that looks like a credential', () => {
  // The patterns find what they are meant to find, and not what is expected in a history.
  const planted = [
    '{"databaseUrl":"x","password":"hunter2"}',
    'CLICKHOUSE_PASSWORD=hunter2 coldtier worker',
    'cannot reach Postgres at postgres://coldtier:hunter2@db:5432/coldtier',
    'key AKIAIOSFODNN7EXAMPLE',
    '"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    'MINIO_ROOT_PASSWORD is 8d5c0f2b6e1a4d3c9b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e',
  ];
  assert.deepEqual(planted.map(credentials), Object.keys(CREDENTIALS).map((what) => [what]));
  const lookalikes = [
    'postgres://coldtier:***@127.0.0.1:5432/coldtier',
    '"password":"***"',
    'CLICKHOUSE_PASSWORD (clickhouse.password): must be a string',
    '"nextPageToken":"abc"',
    'temporal-cli:root@vm 18979@vm',
    '307b170f9d622d4335c66d8b83707ad268a37696d43c57ecf74e3a430bd6376c 84c7496419f74cba8cc776f6229e77ce',
    'e68a55a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6 01a20156-7329-713b-92cc-4ad5c7ab4b3d',
    'file:///work/main/test/.tmp/stack-123/warehouse/cold/bronze_trades_binance/metadata/00001-x.metadata.json',
  ];
  assert.deepEqual(lookalikes.flatMap(credentials), []);

  const dir = join(ROOT, 'test', 'histories');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length > 0, 'recorded histories exist');
  const found: string[] = [];
  for (const f of files) {
    const texts = jsonTexts(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    assert.ok(texts.includes('json/plain'), `${f}: payloads were decoded (sanity check of the search)`);
    for (const what of credentials(texts.join('\n'))) found.push(`${what} in ${f}`);
  }
  assert.deepEqual(found, []);
});

test('secrets (Postgres password, S3 secret key, ClickHouse password) appear in no log, history, schedule, Web UI response, audit row or metadata', async () => {
  // A Postgres role of our own, with a random password in DATABASE_URL.
  const pgPassword = `pw${randomBytes(12).toString('hex')}`;
  const role = `sec_${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(await createTestDatabase('sec'));
  const admin = new pg.Client({ connectionString: pgAdminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${pgPassword}'`);
    await admin.query(`ALTER DATABASE ${dbUrl.pathname.slice(1)} OWNER TO ${role}`);
  } finally {
    await admin.end();
  }
  dbUrl.username = role;
  dbUrl.password = pgPassword;
  const chPassword = `ch${randomBytes(12).toString('hex')}`;
  const h = await harness({
    tables: (tag) => [bronzeTable(`bronze_sec_${tag}`), bronzeTable(`bronze_gone_${tag}`)],
    override: (s) => {
      s.databaseUrl = dbUrl.toString();
      s.clickhouse.password = chPassword;
    },
  });
  const s3Secret = h.settings.s3.secretAccessKey!;
  const secrets = { 'Postgres password': pgPassword, 'S3 secret key': s3Secret, 'ClickHouse password': chPassword };
  const [table, gone] = h.settings.tables.map((t) => t.name) as [string, string];
  h.vars.CLICKHOUSE_USER = 'default';
  h.vars.CLICKHOUSE_PASSWORD = chPassword;
  const haystacks: Record<string, string> = {};
  const ids = scheduleIds(`sec-${h.tag}`);
  try {
    assert.equal(h.vars.DATABASE_URL, dbUrl.toString(), 'the worker really uses the password');
    await createBronzeTable(h.ch, table);
    await insertTrades(h.ch, table, { rows: 3_000, exchange: 'binance', spreadSeconds: 3 * 3600, eventTimeEnd: new Date(Date.now() - 3_600_000) });
    // The most verbose logging the worker has.
    const worker = await h.startWorker('secrets', { COLDTIER_LOG_LEVEL: 'DEBUG' });
    const run = (type: string, name: string, args: object) => h.client.workflow.start(type, { taskQueue: h.taskQueue, workflowId: `${name}-${h.tag}`, args: [args] });
    const ok = await run('offloadWorkflow', 'sec-offload', {});
    const offloaded = (await ok.result()) as { status: string };
    assert.equal(offloaded.status, 'partial', 'one table offloaded, one failed (its source does not exist)');
    const maint = await run('maintenanceWorkflow', 'sec-maintain', { tables: [table], stages: ['compact', 'expire', 'orphans', 'audit'], auditWindowHours: 6 });
    await maint.result();
    const end = new Date();
    const repair = await run('backfillWorkflow', 'sec-repair', { table, from: new Date(end.getTime() - 6 * 3_600_000).toISOString(), to: end.toISOString(), reason: 'repair' });
    await repair.result();
    // CLI: success and failure paths, the latter with the password in a DATABASE_URL that cannot be reached.
    const cli = async (args: string[], env: NodeJS.ProcessEnv) => {
      const r = await runCli(args, env);
      return `${r.stdout}\n${r.stderr}`;
    };
    haystacks['cli status'] = await cli(['status', '--json'], h.vars);
    assert.match(haystacks['cli status'], new RegExp(`"table": "${table}"`));
    haystacks['cli offload'] = await cli(['offload', '--wait', '--json'], h.vars);
    assert.match(haystacks['cli offload'], /"status": "partial"/);
    const unreachable = new URL(dbUrl);
    unreachable.port = '1';
    haystacks['cli unreachable Postgres'] = await cli(['status'], { ...h.vars, DATABASE_URL: unreachable.toString() });
    assert.match(haystacks['cli unreachable Postgres'], /cannot reach Postgres at postgres:\/\/sec_\w+:\*\*\*@/);
    haystacks['cli bad setting'] = await cli(['status'], { ...h.vars, CLICKHOUSE_URL: 'tcp://nowhere' });
    await worker.kill('SIGTERM');
    haystacks['worker log'] = worker.output();
    assert.match(haystacks['worker log'], /"level":20/, 'debug logging was on');

    // Every workflow of the task queue: history (inputs, results, failures, heartbeats, search attributes) and description.
    const runs: { workflowId: string; runId: string }[] = [];
    for await (const wf of h.client.workflow.list({ query: `TaskQueue = '${h.taskQueue}'` })) {
      const handle = h.client.workflow.getHandle(wf.workflowId, wf.runId);
      haystacks[`history ${wf.workflowId}`] = dump(await handle.fetchHistory());
      haystacks[`describe ${wf.workflowId}`] = dump((await handle.describe()).raw);
      runs.push(wf);
    }
    const histories = runs.length;
    assert.ok(histories >= 4, `histories fetched: ${histories}`);
    assert.match(haystacks[`history sec-offload-${h.tag}`]!, new RegExp(gone), 'the decoded history holds the payloads (sanity check of the search)');

    // Both schedules `coldtier schedules apply` creates, as Temporal describes them (spec, action and its input, memo).
    haystacks['cli schedules apply'] = await cli(['schedules', 'apply', '--prefix', `sec-${h.tag}`], h.vars);
    assert.match(haystacks['cli schedules apply'], new RegExp(`${ids.maintenance}: created`));
    for (const id of Object.values(ids)) haystacks[`schedule ${id}`] = dump((await h.client.schedule.getHandle(id).describe()).raw);
    assert.match(haystacks[`schedule ${ids.maintenance}`]!, /"auditWindowHours"/, 'the decoded schedule holds its action input (sanity check)');

    // What the Web UI serves: the JSON its pages fetch from the UI server (run list, each run's description and its
    // history in both orders, both schedules), payloads decoded as the browser decodes them.
    const ui = temporalUiUrl();
    assert.ok(ui, 'COLDTIER_TEST_TEMPORAL_UI_URL is set (npm test starts the dev server with its Web UI)');
    const api = `${ui}/api/v1/namespaces/${h.settings.temporal.namespace}`;
    const fromUi = async (path: string): Promise<string> => {
      let text = '';
      let token = '';
      do {
        const res = await fetch(`${api}${path}${token ? `${path.includes('?') ? '&' : '?'}next_page_token=${encodeURIComponent(token)}` : ''}`);
        const body = await res.text();
        assert.equal(res.status, 200, `GET ${path}: ${body}`);
        const json = JSON.parse(body) as { nextPageToken?: string };
        text += `${body}\n${jsonTexts(json).join('\n')}\n`;
        token = json.nextPageToken ?? '';
      } while (token);
      return text;
    };
    haystacks['ui workflow list'] = await fromUi(`/workflows?query=${encodeURIComponent(`TaskQueue = '${h.taskQueue}'`)}`);
    for (const { workflowId, runId } of runs) {
      const wf = `/workflows/${encodeURIComponent(workflowId)}`;
      haystacks[`ui describe ${workflowId}`] = await fromUi(`${wf}?execution.runId=${runId}`);
      haystacks[`ui history ${workflowId}`] = await fromUi(`${wf}/history?execution.runId=${runId}`);
      haystacks[`ui history-reverse ${workflowId}`] = await fromUi(`${wf}/history-reverse?execution.runId=${runId}`);
    }
    for (const id of Object.values(ids)) haystacks[`ui schedule ${id}`] = await fromUi(`/schedules/${id}`);
    assert.match(haystacks[`ui history sec-offload-${h.tag}`]!, new RegExp(gone), 'the UI history holds the decoded payloads (sanity check)');
    assert.match(haystacks[`ui schedule ${ids.maintenance}`]!, /"auditWindowHours"/, 'the UI schedule holds its decoded action input (sanity check)');

    // Postgres: the audit log, watermarks and the catalog.
    for (const t of ['maintenance_audit_log', 'coldtier_watermarks', 'iceberg_tables', 'iceberg_namespace_properties']) {
      haystacks[`table ${t}`] = dump((await h.pool.query(`SELECT * FROM ${t}`)).rows);
    }
    assert.match(haystacks['table maintenance_audit_log']!, new RegExp(table));
    // Every file of the table: metadata JSON, manifest lists, manifests, data files.
    const loaded = (await loadTable(h.pool, h.io, h.id(table)))!;
    for (const f of await h.io.list(loaded.metadata.location)) haystacks[`file ${f.uri}`] = Buffer.from(await h.io.read(f.uri)).toString('latin1');

    const leaks: string[] = [];
    for (const [where, text] of Object.entries(haystacks)) for (const [what, secret] of Object.entries(secrets)) if (text.includes(secret)) leaks.push(`${what} in ${where}`);
    assert.deepEqual(leaks, []);
    report({ scenario: 'security: secrets', faults: `3 secrets searched in ${Object.keys(haystacks).length} places (worker DEBUG log, CLI output, ${histories} histories, 2 schedules, the Web UI's API, 4 tables, table files)`, expected: 0, found: leaks.length, duplicates: 0, orphaned: 0 });
  } finally {
    for (const id of Object.values(ids)) await h.client.schedule.getHandle(id).delete().catch(() => undefined);
    // A run a schedule may have started meanwhile (no worker polls any more).
    for await (const wf of h.client.workflow.list({ query: `WorkflowId STARTS_WITH 'sec-${h.tag}-' AND ExecutionStatus = 'Running'` })) {
      await h.client.workflow.getHandle(wf.workflowId, wf.runId).terminate('test cleanup').catch(() => undefined);
    }
    await h.close();
  }
});

test('SQL identifiers only come from validated config; SQL in a name, source or column is refused', () => {
  const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', CLICKHOUSE_URL: 'chdb:///tmp/ch', ICEBERG_WAREHOUSE: 'file:///tmp/wh' };
  const dir = join(ROOT, 'test', '.tmp');
  const bad: [string, object][] = [
    ['source', { source: 'x; DROP TABLE y' }],
    ['name', { name: 'a`b' }],
    ['watermark', { watermark: ['ingested_at; DROP TABLE y'] }],
    ['sortBy', { sortBy: ["symbol' OR 1=1"] }],
    ['partitionBy', { partitionBy: [{ column: 'ts) --', transform: 'day' }] }],
    ['timeColumn', { timeColumn: 'a b' }],
  ];
  for (const [key, patch] of bad) {
    const path = join(dir, `sql-${key}-${randomBytes(3).toString('hex')}.yaml`);
    writeFileSync(path, JSON.stringify({ tables: [{ ...bronzeTable('t'), ...patch }] }));
    assert.throws(() => loadSettings({ env: { ...base, COLDTIER_CONFIG: path } }), (err: Error) => err.name === 'ConfigError' && /must be/.test(err.message), key);
    assert.equal(tableConfigSchema.safeParse({ ...bronzeTable('t'), ...patch }).success, false, key);
  }
  // The one place identifiers enter SQL text refuses anything that was not validated.
  for (const v of ['x; DROP TABLE y', 'a`b', '', '1abc', 'a.b']) assert.throws(() => quote(v), /refusing to quote unvalidated identifier/);
});

interface Finding {
  file: string;
  line: number;
  expr: string;
  why: string;
}

const SQL = /\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE (TABLE|DATABASE|VIEW|MATERIALIZED VIEW|INDEX|UNIQUE INDEX)|ALTER TABLE|DROP TABLE)\b/;
/**
 * Interpolations that build SQL text, not values: placeholders ({name:Type}), validated, quoted identifiers, and the
 * escaped literals of DDL that cannot take bound parameters (the federated view, src/clickhouse/federation.ts).
 */
const FRAGMENT = /^(paramTuple|tuple|keyTuple|quote|literalTuple|literal)\(/;

/**
 * Value interpolations in SQL text: in a template that contains SQL, an interpolation right after a quote or after
 * an operator that takes a value (=, <, >, IN (, LIKE, LIMIT, OFFSET, VALUES (, INTERVAL); in any template, a quoted
 * one right after a comparison (`= '${`).
 */
function sqlValueInterpolations(file: string, text: string): Finding[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Finding[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isTemplateExpression(n)) {
      const sql = SQL.test([n.head.text, ...n.templateSpans.map((s) => s.literal.text)].join(' '));
      let before = n.head.text;
      for (const s of n.templateSpans) {
        const expr = s.expression.getText(sf);
        const line = sf.getLineAndCharacterOfPosition(s.expression.getStart()).line + 1;
        if (sql && /['"]$/.test(before)) out.push({ file, line, expr, why: 'quoted interpolation in SQL' });
        else if (sql && /(=|<>|!=|<|>|\bIN\s*\(|\bLIKE|\bLIMIT|\bOFFSET|\bVALUES\s*\(|\bINTERVAL)\s*$/i.test(before) && !FRAGMENT.test(expr)) out.push({ file, line, expr, why: 'value interpolated after an operator in SQL' });
        else if (/(=|<>|!=|<|>|\bIN\s*\(|\bLIKE)\s*'$/i.test(before)) out.push({ file, line, expr, why: 'quoted value after a comparison' });
        before = s.literal.text;
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Reviewed exceptions: file:expression → why it is not a value. */
const ALLOWED: Record<string, string> = {
  'src/devstack/postgres.ts:name': 'CREATE DATABASE "<name>": an identifier checked against /^[a-z_][a-z0-9_]{0,62}$/ just before (dev stack only)',
  'src/demo.ts:dir': 'a hint printed for the user to copy, never executed',
};

test('values reach SQL only as bound parameters: no value interpolated into SQL text anywhere in src/', () => {
  // The scanner finds what it is meant to find.
  const planted = sqlValueInterpolations('planted.ts', [
    'const a = `SELECT * FROM t WHERE id = \'${id}\'`;',
    'const b = `DELETE FROM t WHERE n > ${n}`;',
    'const c = `${col} = \'${v}\'`;',
    'const d = `SELECT * FROM t WHERE ${quote(c)} = {v:String} LIMIT ${limit}`;',
    'const ok = `SELECT ${cols} FROM ${src} WHERE ${where.sql} AND ${tuple(k)} > ${paramTuple(k, \'lo\')}`;',
  ].join('\n'));
  assert.deepEqual(planted.map((f) => f.expr), ['id', 'n', 'v', 'limit']);

  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(join(ROOT, 'src'));
  const findings = files.flatMap((f) => sqlValueInterpolations(relative(ROOT, f), readFileSync(f, 'utf8')));
  const unexpected = findings.filter((f) => !ALLOWED[`${f.file}:${f.expr}`]);
  assert.deepEqual(unexpected, [], 'values must be bound parameters ({name:Type} for ClickHouse, $n for Postgres)');
  assert.equal(findings.length, Object.keys(ALLOWED).length, 'every allowed exception is still needed');
});

test('storage keys never escape the table location', async () => {
  for (const part of ['..', '../x', 'a/../b', './a', '/etc/passwd', '\\x', 's3://other/key', 'file:///etc', 'a\0b']) {
    assert.throws(() => joinUri('s3://bucket/wh/cold/t', 'data', part), IcebergPathError, part);
  }
  assert.equal(joinUri('s3://bucket/wh/cold/t', 'data', 'p=a%2F..%2Fb/f.parquet'), 's3://bucket/wh/cold/t/data/p=a%2F..%2Fb/f.parquet');

  // Partition values are data: an identity-partitioned string column full of path tricks still writes inside data/.
  const h = await harness({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_paths_${tag}`, { partitionBy: [{ column: 'symbol', transform: 'identity' }] })] });
  const table = h.settings.tables[0]!.name;
  try {
    await createBronzeTable(h.ch, table);
    const tricks = ['..', '../../escape', '/etc/passwd', 'a/../../b', '.', '%2e%2e', 'C:\\x'];
    await h.ch.command(
      `INSERT INTO ${table} (exchange, symbol, trade_id, side, price, quantity, exchange_timestamp, sequence)
       SELECT 'x', arrayElement({tricks:Array(String)}, 1 + number % {n:UInt32}), toString(number), 'buy', 1, 1, now64(6), number + 1 FROM numbers(70)`,
      { tricks, n: tricks.length },
    );
    const r = await createActivities({ settings: h.settings, pool: h.pool, ch: h.ch, io: h.io }).offloadTable({ table });
    assert.equal(r.rows, 70);
    const meta = (await loadTable(h.pool, h.io, h.id(table)))!.metadata;
    const data = `${normalizeUri(meta.location)}/data/`;
    const files = await listDataFiles(h.io, meta);
    assert.equal(new Set(files.map((f) => f.partition.symbol)).size, tricks.length);
    for (const f of files) {
      assert.ok(normalizeUri(f.file_path).startsWith(data), f.file_path);
      assert.ok(!f.file_path.slice(data.length).split('/').some((seg) => seg === '..' || seg === '.'), f.file_path);
    }
    const listed = await h.io.list(h.settings.warehouse);
    for (const f of listed) assert.ok(normalizeUri(f.uri).startsWith(`${normalizeUri(meta.location)}/`), `nothing written outside the table: ${f.uri}`);
    const [n] = await h.ch.json<{ n: string }>(`SELECT toString(countDistinct(symbol)) AS n FROM ${h.ice(table)}`);
    assert.equal(n!.n, String(tricks.length), 'readers see every partition value as data');
  } finally {
    await h.close();
  }
});

test('TLS and API-key options for Temporal Cloud, Postgres and ClickHouse exist, are documented and are used', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const settingsSection = readme.slice(readme.indexOf('## Settings'), readme.indexOf('### The table registry'));
  for (const s of ['TEMPORAL_TLS', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_API_KEY', 'sslmode=require', 'http(s)://', 'CLICKHOUSE_PASSWORD']) assert.ok(settingsSection.includes(s), `README "Settings" mentions ${s}`);

  const apiKey = `key-${randomBytes(8).toString('hex')}`;
  const s = loadSettings({
    env: {
      DATABASE_URL: 'postgres://u:p@db.internal:5432/coldtier?sslmode=require',
      CLICKHOUSE_URL: 'https://clickhouse.internal:8443',
      ICEBERG_WAREHOUSE: 's3://cold/iceberg',
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_CERT: '/etc/coldtier/client.pem',
      TEMPORAL_TLS_KEY: '/etc/coldtier/client.key',
      TEMPORAL_API_KEY: apiKey,
    },
    cwd: join(ROOT, 'test', '.tmp'),
  });
  assert.deepEqual(s.temporal, { address: 'ns.acct.tmprl.cloud:7233', namespace: 'default', taskQueue: 'coldtier', tls: true, tlsCertPath: '/etc/coldtier/client.pem', tlsKeyPath: '/etc/coldtier/client.key', apiKey });
  assert.match(s.databaseUrl, /sslmode=require/);
  assert.equal(s.clickhouse.url, 'https://clickhouse.internal:8443');
  assert.throws(() => loadSettings({ env: { DATABASE_URL: 'x', CLICKHOUSE_URL: 'y', ICEBERG_WAREHOUSE: 'z', TEMPORAL_API_KEY: apiKey }, cwd: join(ROOT, 'test', '.tmp') }), (err: Error) => !err.message.includes(apiKey));

  // The options are really used: each client insists on TLS against the plaintext test servers.
  const h = await harness({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_tls_${tag}`)] });
  try {
    const tlsPg = new URL(h.settings.databaseUrl);
    tlsPg.searchParams.set('sslmode', 'require');
    await assert.rejects(openPool(tlsPg.toString()), /SSL|TLS/i, 'sslmode=require makes the Postgres client demand TLS');
    const gateway = new URL(h.gateway.url);
    await assert.rejects(openClickHouse({ ...h.settings.clickhouse, url: `https://${gateway.host}` }), /cannot reach ClickHouse at https:\/\//, 'https:// makes the ClickHouse client speak TLS');
    await assert.rejects(connectClient({ ...h.settings.temporal, tls: true }), /cannot reach Temporal/, 'TEMPORAL_TLS makes the Temporal client speak TLS');
    await assert.rejects(connectClient({ ...h.settings.temporal, apiKey }), /cannot reach Temporal/, 'an API key implies TLS');
  } finally {
    await h.close();
  }
});
