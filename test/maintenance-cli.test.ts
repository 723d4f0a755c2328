import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createActivities } from '../src/activities';
import { loadTable } from '../src/iceberg';
import { setWatermark } from '../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { listDataFiles } from '../src/iceberg';
import { openServices } from '../src/worker';
import { bronzeTable, cliEnv, fingerprint, icebergFunction, makeTestEnv } from './helpers/coldtier';
import { BIN, spawnWorker } from './helpers/processes';

const HOUR = 3_600_000;

function cli(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('coldtier maintain --wait prints the per-table result; repair --window closes the audit gap; a partial run exits 2', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_mc${tag}`), bronzeTable(`bronze_trades_md${tag}`)] });
  const { settings } = env;
  const [gapped, broken] = settings.tables.map((t) => t.name) as [string, string];
  const configPath = join(env.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: settings.tables }));
  const vars = cliEnv(env, configPath);
  const gapHour = Math.floor((Date.now() - 30 * HOUR) / HOUR) * HOUR;
  const windowEnd = new Date(Math.ceil(Date.now() / HOUR) * HOUR).toISOString();

  const services = await openServices(settings);
  const { ch, pool, io } = services;
  try {
    const acts = createActivities({ settings, ...services });
    for (const t of [gapped, broken]) await createBronzeTable(ch, t);
    for (let i = 0; i < 6; i++) {
      for (const t of [gapped, broken]) {
        await insertTrades(ch, t, { rows: 100, exchange: 'binance', seed: i, eventTimeEnd: new Date(Date.now() - 6 * HOUR), spreadSeconds: 1800 });
        await acts.offloadTable({ table: t });
      }
    }
    // The gap: rows of one hour that the offload never takes (the watermark is moved past them by hand).
    await insertTrades(ch, gapped, { rows: 400, exchange: 'binance', seed: 99, eventTimeEnd: new Date(gapHour + HOUR - 1000), spreadSeconds: 3000 });
    const [top] = await ch.json<{ ts: string; seq: string }>(`SELECT toString(max(ingested_at)) AS ts, toString(max(sequence)) AS seq FROM ${gapped}`);
    await setWatermark(pool, { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table: gapped }, ['ingested_at', 'sequence'], [top!.ts, top!.seq], new Date());
    // The other table lost a data file in the object store: its compaction fails (the run goes on, status partial).
    const lost = (await loadTable(pool, io, { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table: broken }))!;
    rmSync((await listDataFiles(io, lost.metadata))[0]!.file_path.replace('file://', ''));
  } finally {
    await services.close(); // chDB: one process per data directory, and the worker is another process
  }

  const worker = await spawnWorker(vars, `maintain-cli-${env.tag}`);
  try {
    const audit = ['--tables', gapped, '--audit-window-hours', '48', '--audit-window-end', windowEnd, '--wait'];
    const failed = cli(['maintain', '--stages', 'audit', ...audit], vars);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout, /^started maintenance workflow coldtier-maintenance-manual-/m);
    const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    assert.match(failed.stdout, new RegExp(`^audit window ${utc(Date.parse(windowEnd) - 48 * HOUR)} → ${utc(Date.parse(windowEnd))}$`, 'm'));
    // The table row says failed, as its audit does (not ok), and the run says failed, as the workflow did.
    assert.match(failed.stdout, new RegExp(`^${gapped}\\s+failed\\s+-\\s+-\\s+-\\s+-\\s+0\\s+missing_data \\(600/1,000\\)\\s+hours with fewer rows in Iceberg: ${new Date(gapHour).toISOString()} \\(0/400\\)`, 'm'));
    assert.match(failed.stdout, /^failed in /m);
    assert.match(failed.stderr, new RegExp(`^coldtier: maintenance audit of .* failed: ${gapped}: missing_data`, 'm'));

    // The same with --json: stdout is the report alone, and it says failed too (issue 17).
    const failedJson = cli(['maintain', '--stages', 'audit', ...audit, '--json'], vars);
    assert.equal(failedJson.code, 1, failedJson.stderr);
    const report = JSON.parse(failedJson.stdout) as { status: string; error: string; workflowId: string; tables: { table: string; status: string; audit: { status: string } }[] };
    assert.equal(report.status, 'failed');
    assert.match(report.error, new RegExp(`${gapped}: missing_data`));
    assert.match(report.workflowId, /^coldtier-maintenance-manual-/);
    assert.deepEqual(report.tables.map((t) => [t.table, t.status, t.audit.status]), [[gapped, 'failed', 'missing_data']]);

    // Without --wait, --json prints the workflow id as JSON.
    const started = cli(['maintain', '--stages', 'audit', '--tables', gapped, '--json'], vars);
    assert.equal(started.code, 0, started.stderr);
    assert.match((JSON.parse(started.stdout) as { workflowId: string }).workflowId, /^coldtier-maintenance-manual-/);
    const [, table, window] = /fix with: coldtier repair --table (\S+) --window (\S+)/.exec(failed.stdout) ?? [];
    assert.equal(table, gapped);

    // The repair command exactly as the audit printed it.
    const repaired = cli(['repair', '--table', table!, '--window', window!], vars);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(repaired.stdout, /^started repair workflow coldtier-repair-/m);
    assert.match(repaired.stdout, new RegExp(`^${new Date(gapHour).toISOString()}\\s+400\\s+0\\s+400$`, 'm'));
    assert.match(repaired.stdout, new RegExp(`${gapped}: 400 rows added in \\d+ files`));

    // Compact, expire and audit: files before → after, bytes, snapshots expired, files deleted, audit status.
    const ok = cli(['maintain', '--stages', 'compact,expire,audit', '--snapshot-max-age-hours', '0', ...audit], vars);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^table\s+status\s+files\s+bytes\s+manifests\s+snapshots expired\s+files deleted\s+audit \(iceberg\/clickhouse\)\s+note$/m);
    const row = new RegExp(`^${gapped}\\s+ok\\s+(\\d+) → (\\d+)\\s+(\\S+ \\S+) → (\\S+ \\S+)\\s+-\\s+(\\d+)\\s+(\\d+)\\s+ok \\(1,000/1,000\\)$`, 'm').exec(ok.stdout);
    assert.ok(row, ok.stdout);
    const [filesBefore, filesAfter, , , expired, deleted] = row.slice(1).map((c) => Number(c)) as number[];
    assert.ok(filesBefore! >= 7 && filesAfter! < filesBefore!, `files ${filesBefore} → ${filesAfter}`);
    assert.equal(expired, 5, '6 appends + 1 repair + 1 replace, 3 kept');
    assert.ok(deleted! > 0);
    assert.match(ok.stdout, /^ok in /m);

    // A table whose compaction fails: reported, the run is partial, and the exit code is 2.
    const partial = cli(['maintain', '--tables', broken, '--stages', 'compact', '--min-input-files', '2', '--wait'], vars);
    assert.equal(partial.code, 2, partial.stderr);
    assert.match(partial.stdout, new RegExp(`^${broken}\\s+failed\\s+-\\s+-\\s+-\\s+-\\s+0\\s+-\\s+compact: .+`, 'm'));
    assert.match(partial.stdout, /^partial in /m);
  } finally {
    await worker.kill('SIGTERM');
  }

  const check = await openServices(settings);
  try {
    const final = await fingerprint(check.ch, icebergFunction(env, gapped));
    assert.equal(final.keys, final.n, 'no duplicates after the repair and the compaction');
    assert.deepEqual(final, await fingerprint(check.ch, gapped));
  } finally {
    await check.close();
  }
});
