// The rewrite-manifests stage through the real workflow and activities: after the offloads and a compaction, it
// rewrites the current manifests into one ordered by partition with no history, reads the same, and a second run
// has nothing to do; a dry run writes nothing. The offloads themselves keep the list bounded by merging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../src/activities';
import type { MaintenanceWorkflowResult } from '../src/activities/types';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { currentSnapshot, loadTable, readManifestList } from '../src/iceberg';
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
