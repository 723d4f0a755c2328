// The rewrite-manifests stage through the real workflow and activities: after the offloads and a compaction, it
// rewrites the current manifests into one ordered by partition with no history, reads the same, and a second run
// has nothing to do; a dry run writes nothing. The offloads themselves keep the list bounded by merging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../src/activities';
import type { MaintenanceWorkflowResult } from '../src/activities/types';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { currentSnapshot, listDataFiles, loadTable, readManifestList } from '../src/iceberg';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, fingerprint, icebergFunction, makeTestEnv } from './helpers/coldtier';

const HOUR = 3_600_000;

test('maintenance: rewrite-manifests after compact leaves one manifest without history and the same rows', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_rm${tag}`)] });
  const { settings } = env;
  const table = settings.tables[0]!.name;
  const id = { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table };
  const services = await openServices(settings);
  const { ch, pool, io } = services;
  const acts = createActivities({ settings, ...services });
  const ice = icebergFunction(env, table);
  const client = await connectClient(settings.temporal);
  const maintain = async (args: object) =>
    (await client.workflow.execute('maintenanceWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `maint-rm-${env.tag}-${Date.now()}`, args: [args] })) as MaintenanceWorkflowResult;
  const manifests = async () => {
    const t = (await loadTable(pool, io, id))!;
    return readManifestList(io, currentSnapshot(t.metadata)!);
  };
  try {
    await createBronzeTable(ch, table);
    for (let i = 0; i < 12; i++) {
      await insertTrades(ch, table, { rows: 200, exchange: 'binance', spreadSeconds: 3 * 86_400, seed: i, eventTimeEnd: new Date(Date.now() - 6 * HOUR) });
      await acts.offloadTable({ table });
    }
    const source = await fingerprint(ch, table);
    const worker = await createWorker(settings, { services });
    await worker.runUntil(async () => {
      const dry = await maintain({ stages: ['compact', 'rewrite-manifests'], dryRun: true });
      assert.equal(dry.tables[0]!.rewriteManifests!.status, 'dry-run');
      assert.equal((await manifests()).length, 12, 'a dry run writes nothing');

      const run = await maintain({ stages: ['compact', 'rewrite-manifests'] });
      const t = run.tables[0]!;
      assert.deepEqual(t.errors, []);
      assert.equal(t.compact!.status, 'compacted');
      const r = t.rewriteManifests!;
      assert.equal(r.status, 'rewritten');
      assert.equal(r.manifestsAfter, 1);
      const list = await manifests();
      assert.equal(list.length, 1);
      assert.equal(list[0]!.deleted_files_count, 0, 'no history in the current manifests');
      assert.equal(list[0]!.existing_files_count, r.entries);
      const snap = currentSnapshot((await loadTable(pool, io, id))!.metadata)!;
      assert.equal(snap['snapshot-id'].toString(), r.snapshotId);
      assert.equal(snap.summary.operation, 'replace');
      assert.equal(snap.summary['total-records'], source.n);
      const got = await fingerprint(ch, ice);
      assert.equal(got.keys, got.n, 'no duplicates');
      assert.deepEqual(got, source);

      const again = await maintain({ stages: ['rewrite-manifests'] });
      assert.equal(again.tables[0]!.rewriteManifests!.status, 'nothing-to-do');
      assert.equal(currentSnapshot((await loadTable(pool, io, id))!.metadata)!['snapshot-id'].toString(), r.snapshotId, 'no new snapshot');
    });
  } finally {
    await client.connection.close();
    await services.close();
  }
});

test('maintenance: an offload that merges manifests while a compaction runs: every row once', async () => {
  // Merging every 3 commits, so the offload committed during the compaction merges away the manifests it planned from.
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_mr${tag}`, { properties: { 'commit.manifest.min-count-to-merge': '3' } })] });
  const { settings } = env;
  const table = settings.tables[0]!.name;
  const id = { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table };
  const services = await openServices(settings);
  const { ch, pool, io } = services;
  const acts = createActivities({ settings, ...services });
  const ice = icebergFunction(env, table);
  const client = await connectClient(settings.temporal);
  let duringCompaction: (() => Promise<void>) | undefined;
  const during: string[] = [];
  try {
    await createBronzeTable(ch, table);
    for (let i = 0; i < 10; i++) {
      await insertTrades(ch, table, { rows: 200, exchange: 'binance', spreadSeconds: 2 * 86_400, seed: i, eventTimeEnd: new Date(Date.now() - 6 * HOUR) });
      await acts.offloadTable({ table });
    }
    const planned = new Set((await readManifestList(io, currentSnapshot((await loadTable(pool, io, id))!.metadata)!)).map((m) => m.manifest_path));
    const worker = await createWorker(settings, { services, hooks: { beforeCompactCommit: async () => duringCompaction?.() } });
    await worker.runUntil(async () => {
      // One offload: more would run under the compaction activity's identity and find the first one's commit (replay).
      duringCompaction = async () => {
        await insertTrades(ch, table, { rows: 400, exchange: 'binance', seed: 100, eventTimeEnd: new Date(Date.now() - 6 * HOUR) });
        const r = await acts.offloadTable({ table });
        during.push(`${r.status} ${r.rows} ${r.reason ?? ''}`);
        const now = await readManifestList(io, currentSnapshot((await loadTable(pool, io, id))!.metadata)!);
        assert.ok(now.every((m) => !planned.has(m.manifest_path)), 'the offload merged away every manifest the compaction planned from');
      };
      const run = (await client.workflow.execute('maintenanceWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `maint-mr-${env.tag}`, args: [{ stages: ['compact'] }] })) as MaintenanceWorkflowResult;
      duringCompaction = undefined;
      assert.deepEqual(run.tables[0]!.errors, []);
      assert.equal(run.tables[0]!.compact!.status, 'compacted');
    });
    const cur = (await loadTable(pool, io, id))!;
    const files = await listDataFiles(io, cur.metadata);
    assert.equal(files.reduce((a, f) => a + f.record_count, 0), 2400, `${during.join('; ')} ${cur.metadataUri} ${JSON.stringify(currentSnapshot(cur.metadata)!.summary)}`);
    const got = await fingerprint(ch, ice);
    assert.equal(got.n, '2400', during.join('; '));
    assert.equal(got.keys, got.n, 'every row once');
    assert.deepEqual(got, await fingerprint(ch, table));
    const snap = currentSnapshot((await loadTable(pool, io, id))!.metadata)!;
    assert.equal(snap.summary.operation, 'replace');
    assert.equal(snap.summary['total-records'], '2400');
    assert.ok((await readManifestList(io, snap)).every((m) => m.added_files_count + m.existing_files_count > 0), 'no delete-only manifest');
  } finally {
    await client.connection.close();
    await services.close();
  }
});
