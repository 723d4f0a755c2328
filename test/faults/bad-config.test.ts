// Scenario 7: bad configuration and bad requests through the real CLI. Each must be refused with a clear one-line
// error (exit code 1, no stack trace) before anything is written: no workflow started, no snapshot, the watermark as
// it was. A worker runs meanwhile, so anything the CLI wrongly started would really run and be seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { stringify } from 'yaml';
import { createActivities } from '../../src/activities';
import { loadTable } from '../../src/iceberg';
import { readWatermark } from '../../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { createWorker } from '../../src/worker';
import { bronzeTable } from '../helpers/coldtier';
import { census, compare, harness, report, runCli, waitFor, type Harness } from './helpers';

/** Everything a refused request must leave alone. */
async function state(h: Harness, table: string) {
  const t = await loadTable(h.pool, h.io, h.id(table));
  let workflows = 0;
  for await (const _ of h.client.workflow.list({ query: `TaskQueue = '${h.taskQueue}'` })) workflows++;
  return { metadata: t?.metadataUri, snapshots: t?.metadata.snapshots.length, watermark: (await readWatermark(h.pool, h.id(table)))?.values, workflows };
}

test('faults 7: bad config and bad requests are refused by the CLI with a one-line error before anything is written', async () => {
  const h = await harness({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_cfg_${tag}`)] });
  const table = h.settings.tables[0]!.name;
  const config = (name: string, tables: object[]) => {
    const path = join(h.env.dir, name);
    writeFileSync(path, stringify({ tables }));
    return { ...h.vars, COLDTIER_CONFIG: path };
  };
  const good = h.settings.tables[0]!;
  const cases: { name: string; args: string[]; env?: NodeJS.ProcessEnv; error: RegExp }[] = [
    { name: 'unknown table', args: ['offload', '--tables', 'nope', '--wait'], error: /^coldtier: config: unknown table "nope"; known tables: bronze_cfg_\w+$/ },
    {
      name: 'duplicate Iceberg identifier',
      args: ['offload'],
      env: config('dup.yaml', [good, { ...good, source: 'other' }]),
      error: new RegExp(`^coldtier: config: invalid settings \\(.*dup\\.yaml \\+ environment\\): tables\\[1\\] \\(${table}\\)\\.name: duplicate Iceberg table cold\\.${table}$`),
    },
    {
      name: 'warehouse outside the bucket',
      args: ['offload'],
      env: { ...h.vars, ICEBERG_WAREHOUSE: 's3://bucket/../x' },
      error: /^coldtier: config: invalid settings \(.*\): warehouse \(ICEBERG_WAREHOUSE\): must not contain "\.\." path segments; set ICEBERG_WAREHOUSE/,
    },
    {
      name: 'identifier with SQL metacharacters',
      args: ['offload'],
      env: config('sql.yaml', [{ ...good, source: 'x; DROP TABLE y' }]),
      error: /^coldtier: config: invalid settings \(.*sql\.yaml \+ environment\): tables\[0\] \(bronze_cfg_\w+\)\.source: must be table or database\.table$/,
    },
    {
      name: 'quote in a table name',
      args: ['status'],
      env: config('quote.yaml', [{ ...good, name: "bronze'; --" }]),
      error: /^coldtier: config: invalid settings \(.*quote\.yaml \+ environment\): tables\[0\]\.name: must be a plain identifier/,
    },
    { name: 'negative retention', args: ['maintain', '--snapshot-retain-last', '-1', '--wait'], error: /^coldtier: --snapshot-retain-last -1 is invalid: it must be an integer of at least 1/ },
    { name: 'window from > to', args: ['repair', '--table', table, '--window', '2026-01-02T00:00:00Z/2026-01-01T00:00:00Z'], error: new RegExp(`^coldtier: repair of ${table}: the window start 2026-01-02T00:00:00\\.000Z must be before its end 2026-01-01T00:00:00\\.000Z$`) },
    { name: 'orphan age under 24 h', args: ['maintain', '--orphan-min-age-hours', '12', '--wait'], error: /^coldtier: --orphan-min-age-hours 12 is under 24: files that young may belong to a write still in flight$/ },
  ];
  const worker = await createWorker(h.settings, { services: { pool: h.pool, ch: h.ch, io: h.io, close: async () => undefined } });
  try {
    await worker.runUntil(async () => {
      await createBronzeTable(h.ch, table);
      await insertTrades(h.ch, table, { rows: 1_000, exchange: 'kraken' });
      await createActivities({ settings: h.settings, pool: h.pool, ch: h.ch, io: h.io }).offloadTable({ table });
      await insertTrades(h.ch, table, { rows: 500, exchange: 'kraken', seed: 2 });
      const before = await state(h, table);
      assert.equal(before.snapshots, 1);

      for (const c of cases) {
        const out = await runCli(c.args, c.env ?? h.vars);
        assert.equal(out.code, 1, `${c.name}: exit code (stderr: ${out.stderr})`);
        assert.equal(out.stderr.trim().split('\n').length, 1, `${c.name}: one line: ${out.stderr}`);
        assert.match(out.stderr.trim(), c.error, c.name);
        assert.doesNotMatch(out.stdout, /started/, `${c.name}: nothing started`);
        assert.deepEqual(await state(h, table), before, `${c.name}: nothing written`);
      }

      // The workflow refuses the same requests when they come from elsewhere (a client, a schedule), before any activity.
      const bad = { tables: [table], stages: ['expire'], snapshotRetainLast: -1 };
      await assert.rejects(
        h.client.workflow.execute('maintenanceWorkflow', { taskQueue: h.taskQueue, workflowId: `bad-retention-${h.tag}`, args: [bad] }),
        (err: unknown) => err instanceof WorkflowFailedError && /maintenance: snapshot_retain_last must be an integer of at least 1, got -1/.test(String(err.cause?.message)),
      );
      // The listing that showed "no workflow started" above does see workflows: this one.
      const after = await waitFor('the refused workflow in the visibility listing', async () => {
        const s = await state(h, table);
        return s.workflows === before.workflows + 1 && s;
      }, 30_000, 250);
      assert.deepEqual({ ...after, workflows: before.workflows }, before, 'the refused workflow wrote nothing');

      const c = await compare(h, table);
      const files = await census(h, table);
      report({
        scenario: '7 bad config and requests',
        faults: `${cases.length} CLI refusals (${cases.map((x) => x.name).join(', ')}) + snapshotRetainLast -1 by client`,
        expected: 1_000,
        found: c.cold.n,
        duplicates: c.duplicates,
        orphaned: files.orphaned.length,
      });
    });
  } finally {
    await h.close();
  }
});
