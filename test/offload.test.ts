import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OffloadWorkflowResult } from '../src/activities/types';
import { startOffload } from '../src/cli/offload';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { loadTable } from '../src/iceberg';
import { readWatermark } from '../src/db/watermarks';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, fingerprint, icebergFunction, makeTestEnv } from './helpers/coldtier';

for (const warehouse of ['file', 's3'] as const) {
  test(`bronze offload through Temporal on a ${warehouse}:// warehouse: rows equal the source, no-op, increment, retry after commit`, async () => {
    let failNextCommit = false;
    const env = await makeTestEnv({ warehouse, tables: (tag) => [bronzeTable(`bronze_trades_t${tag}`)] });
    const table = env.settings.tables[0]!.name;
    const id = { catalog: env.settings.catalog.name, namespace: env.settings.catalog.namespace, table };
    const services = await openServices(env.settings);
    try {
      const { ch, pool, io } = services;
      await createBronzeTable(ch, table);
      await insertTrades(ch, table, { rows: 5000, exchange: 'binance', spreadSeconds: 3 * 86_400 });

      const worker = await createWorker(env.settings, {
        services,
        hooks: {
          afterCommit: ({ attempt }) => {
            if (failNextCommit && attempt === 1) throw new Error('test hook: crash after the commit');
          },
        },
      });
      const offload = () => startOffload(env.settings, { wait: true, json: true }) as Promise<OffloadWorkflowResult>;
      const snapshots = async () => (await loadTable(pool, io, id))!.metadata.snapshots?.length ?? 0;

      await worker.runUntil(async () => {
        // 1. First offload: every source row lands once.
        const first = await offload();
        assert.equal(first.status, 'ok');
        assert.equal(first.tables[0]!.rows, 5000);
        assert.ok(first.tables[0]!.files >= 3, 'three days of event time → at least one file per day partition');
        assert.deepEqual(await fingerprint(ch, icebergFunction(env, table)), await fingerprint(ch, table));
        assert.equal(await snapshots(), 1);

        // 2. Nothing new: no snapshot.
        const second = await offload();
        assert.equal(second.tables[0]!.status, 'noop');
        assert.equal(second.tables[0]!.rows, 0);
        assert.equal(await snapshots(), 1);

        // 3. M more rows: exactly M added.
        await insertTrades(ch, table, { rows: 700, exchange: 'binance' });
        const third = await offload();
        assert.equal(third.tables[0]!.rows, 700);
        assert.equal(await snapshots(), 2);
        assert.deepEqual(await fingerprint(ch, icebergFunction(env, table)), await fingerprint(ch, table));

        // 4. The activity fails right after its commit; Temporal retries it; the retry commits nothing new.
        await insertTrades(ch, table, { rows: 300, exchange: 'binance' });
        failNextCommit = true;
        const fourth = await offload();
        failNextCommit = false;
        assert.equal(fourth.tables[0]!.rows, 300);
        assert.equal(fourth.tables[0]!.replayed, true, 'the retry found its earlier commit');
        assert.equal(await snapshots(), 3);
        const fp = await fingerprint(ch, icebergFunction(env, table));
        assert.equal(fp.n, '6000');
        assert.equal(fp.keys, '6000', 'no duplicate rows');
        assert.deepEqual(fp, await fingerprint(ch, table));

        // The watermark equals the last committed key, in the same transaction as the snapshot.
        const wm = await readWatermark(pool, id);
        const [last] = await ch.json<{ ts: string; seq: string }>(`SELECT toString(max(ingested_at)) AS ts, toString(max(sequence)) AS seq FROM ${table}`);
        assert.deepEqual(wm?.values, [last!.ts, last!.seq]);
        assert.equal(wm?.lastSnapshotId, fourth.tables[0]!.snapshotId);
      });
    } finally {
      await services.close();
    }
  });
}
