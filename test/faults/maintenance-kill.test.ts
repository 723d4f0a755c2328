// Scenario 2: the worker process dies during compaction (after the rewritten files are uploaded, before the replace
// commit) and during snapshot expiry (after the commit, before the expired files are deleted). At every point — with
// the worker stopped at the fault point, with the worker dead, and after a new worker finished the run — the table
// must read back exactly (chDB's own Iceberg reader) and every file its metadata references must exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../../src/activities';
import type { MaintenanceWorkflowResult } from '../../src/activities/types';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { bronzeTable } from '../helpers/coldtier';
import { census, compare, harness, report, type Harness } from './helpers';

const HOUR = 3_600_000;

/** The table as an outside reader sees it right now: exact rows, no duplicates, no dangling reference. */
async function assertReadable(h: Harness, table: string, when: string) {
  const c = await compare(h, table);
  assert.deepEqual(c.cold, c.source, `${when}: the table reads back exactly`);
  assert.equal(c.duplicates, 0, `${when}: no duplicates`);
  const files = await census(h, table);
  assert.deepEqual(files.missing, [], `${when}: every file the metadata references exists`);
  return { c, files };
}

test('faults 2: a worker killed during compaction and during expiry never leaves the table unreadable or a live file deleted', async () => {
  const h = await harness({ tables: (tag) => [bronzeTable(`bronze_maint_${tag}`)] });
  const table = h.settings.tables[0]!.name;
  const acts = createActivities({ settings: h.settings, pool: h.pool, ch: h.ch, io: h.io });
  const maintain = (id: string, input: object) =>
    h.client.workflow.start('maintenanceWorkflow', { taskQueue: h.taskQueue, workflowId: `${id}-${h.tag}`, args: [{ tables: [table], heartbeatTimeoutSeconds: 5, ...input }] });
  try {
    await createBronzeTable(h.ch, table);
    // Ten small offloads over two days of event time: ~3 partitions × 10 small files, and 10 snapshots.
    for (let i = 0; i < 10; i++) {
      await insertTrades(h.ch, table, { rows: 2_000, exchange: 'kraken', spreadSeconds: 2 * 86_400, seed: 100 + i, eventTimeEnd: new Date(Date.now() - 2 * HOUR) });
      await acts.offloadTable({ table });
    }
    const before = await assertReadable(h, table, 'before maintenance');

    // 1. Killed during compaction, after the compacted files were written, before the replace commit.
    const compactor = await h.startWorker('compactor', { COLDTIER_FAULT_PAUSE: 'compact-before-commit', COLDTIER_FAULT_TABLE: table });
    const compactRun = await maintain('compact-kill', { stages: ['compact'] });
    await compactor.waitFor(new RegExp(`coldtier-fault-point compact-before-commit ${table}`));
    await assertReadable(h, table, 'compaction stopped before its commit');
    await compactor.kill('SIGKILL');
    const dead = await assertReadable(h, table, 'compacting worker dead');
    assert.ok(dead.files.orphaned.length > 0, 'the dead compaction left its rewritten files behind, unreferenced');
    assert.equal(dead.files.liveDataFiles, before.files.liveDataFiles, 'nothing was committed');
    const w1 = await h.startWorker('maintainer-1');
    const compacted = ((await compactRun.result()) as MaintenanceWorkflowResult).tables[0]!;
    await w1.kill('SIGTERM');
    assert.equal(compacted.status, 'ok', compacted.errors.join('; '));
    assert.equal(compacted.compact!.status, 'compacted');
    assert.ok(compacted.compact!.filesAfter < compacted.compact!.filesBefore);
    const afterCompact = await assertReadable(h, table, 'after the retried compaction');
    // The retry plans and writes again; the dead attempt's files stay until the orphan sweep (older than 24 h).
    assert.equal(afterCompact.files.orphaned.length, dead.files.orphaned.length);
    report({
      scenario: '2 worker SIGKILL @compact-before-commit',
      faults: 'SIGKILL after the rewrite, before the replace commit; new worker',
      expected: afterCompact.c.source.n,
      found: afterCompact.c.cold.n,
      duplicates: afterCompact.c.duplicates,
      orphaned: afterCompact.files.orphaned.length,
    });

    // 2. Killed during expiry, after the commit that drops the old snapshots, before their files are deleted.
    const expirer = await h.startWorker('expirer', { COLDTIER_FAULT_PAUSE: 'expire-after-commit', COLDTIER_FAULT_TABLE: table });
    const expireRun = await maintain('expire-kill', { stages: ['expire'], snapshotMaxAgeHours: 0, snapshotRetainLast: 1 });
    await expirer.waitFor(new RegExp(`coldtier-fault-point expire-after-commit ${table}`));
    const stopped = await assertReadable(h, table, 'expiry stopped after its commit');
    assert.equal(stopped.files.snapshots, 1, 'the expiry was committed');
    await expirer.kill('SIGKILL');
    const expiredDead = await assertReadable(h, table, 'expiring worker dead');
    // The small files compaction replaced are referenced by no retained snapshot any more, and were not deleted yet.
    const leftByExpiry = expiredDead.files.orphaned.length - afterCompact.files.orphaned.length;
    assert.ok(leftByExpiry > 0, 'files only expired snapshots used are left, not deleted');
    const w2 = await h.startWorker('maintainer-2');
    const expired = ((await expireRun.result()) as MaintenanceWorkflowResult).tables[0]!;
    await w2.kill('SIGTERM');
    assert.equal(expired.status, 'ok', expired.errors.join('; '));
    assert.equal(expired.expire!.snapshotsAfter, 1);
    const end = await assertReadable(h, table, 'after the retried expiry');
    report({
      scenario: '2 worker SIGKILL @expire-after-commit',
      faults: 'SIGKILL after the expire commit, before deleting files; new worker',
      expected: end.c.source.n,
      found: end.c.cold.n,
      duplicates: end.c.duplicates,
      orphaned: end.files.orphaned.length,
    });
  } finally {
    await h.close();
  }
});
