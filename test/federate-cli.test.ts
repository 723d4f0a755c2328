// `coldtier federate` as a user runs it, against a ClickHouse server (the HTTP interface, here chDB's gateway):
// --apply, --print, and --check exiting 1 on a difference (a view left unrefreshed past the hot tier's TTL) and 0 after --apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { OffloadWorkflowResult } from '../src/activities/types';
import { startChdbGateway } from '../src/clickhouse/chdb-gateway';
import { planViews } from '../src/clickhouse/federated-views';
import { startOffload } from '../src/cli/offload';
import { readBoundary } from '../src/db/boundary';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, cliEnv, makeTestEnv } from './helpers/coldtier';
import { BIN } from './helpers/processes';

/** Asynchronous: the gateway serving the CLI's queries runs in this process, so its event loop must stay free. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

test('coldtier federate over HTTP: --apply, --print, --check exits 1 for a view the TTL outran and 0 after --apply', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_cli_${tag}`)] });
  const table = env.settings.tables[0]!.name;
  const id = { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table };
  const services = await openServices(env.settings);
  const gateway = await startChdbGateway({ path: env.chdbPath });
  const { ch, pool } = services;
  try {
    const configPath = join(env.dir, 'coldtier.config.yaml');
    writeFileSync(configPath, stringify({ tables: env.settings.tables }));
    const vars = { ...cliEnv(env, configPath), CLICKHOUSE_URL: gateway.url };
    const offload = async () => {
      const worker = await createWorker(env.settings, { services });
      await worker.runUntil(async () => assert.equal(((await startOffload(env.settings, { wait: true, json: true })) as OffloadWorkflowResult).status, 'ok'));
    };
    await createBronzeTable(ch, table);
    await insertTrades(ch, table, { rows: 2000, exchange: 'binance', spreadSeconds: 2 * 86_400 });
    await offload();

    const applied = await cli(['federate'], vars);
    assert.equal(applied.code, 0, applied.out);
    assert.match(applied.out, new RegExp(`\`${table}_all\`: Iceberg up to \\(.*, 2000\\) pinned to metadata/\\d+-[0-9a-f-]+\\.metadata\\.json, ClickHouse above`));
    const ok = await cli(['federate', '--check'], vars);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, new RegExp(`\`${table}_all\`: ok: 2000 rows; view pinned at`));

    // The next offload commits and re-pins the view, but that refresh is lost (the older pair put back, as a failed
    // refresh leaves it), and then the hot tier drops what the new boundary covers (the TTL long after a missed
    // refresh): those rows are in neither side of the stale view.
    const [before] = await planViews(env.settings, services, { tables: [table] });
    await insertTrades(ch, table, { rows: 500, exchange: 'binance', spreadSeconds: 3600 });
    await offload();
    await ch.command(before!.view.ddl);
    const b = await readBoundary(pool, id);
    await ch.command(`ALTER TABLE ${table} DELETE WHERE sequence <= {s:Int64} SETTINGS mutations_sync = 2`, { s: b.key![1] });
    const stale = await cli(['federate', '--check'], vars);
    assert.equal(stale.code, 1, stale.out);
    assert.match(stale.out, /: different: view has 2000 rows \(hash \d+\), expected 2500 \(hash \d+\); view pinned at .*; run coldtier federate --apply and check again/);

    const printed = await cli(['federate', '--print'], vars);
    assert.equal(printed.code, 0, printed.out);
    assert.match(printed.out, new RegExp(`^CREATE OR REPLACE VIEW \`default\`\\.\`${table}_all\` AS SELECT .* UNION ALL SELECT .* FROM icebergLocal\\(.*COMMENT .*;$`, 'm'));
    assert.equal((await cli(['federate', '--check'], vars)).code, 1, '--print changed nothing');
    assert.equal((await cli(['federate', '--apply'], vars)).code, 0);
    const fixed = await cli(['federate', '--check'], vars);
    assert.equal(fixed.code, 0, fixed.out);
    assert.match(fixed.out, /: ok: 2500 rows/);

    const both = await cli(['federate', '--print', '--check'], vars);
    assert.equal(both.code, 1);
    assert.match(both.out, /^coldtier: federate: give one of --print, --apply or --check$/m);
  } finally {
    await gateway.close();
    await services.close();
  }
});
