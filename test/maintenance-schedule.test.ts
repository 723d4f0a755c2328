import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineSearchAttributeKey } from '@temporalio/common';
import { createActivities } from '../src/activities';
import type { MaintenanceWorkflowResult } from '../src/activities/types';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { MAINTENANCE_INPUT, desiredSchedules, scheduleIds } from '../src/schedules/definitions';
import { backfillSchedule } from '../src/schedules/operations';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { COLDTIER_STATUS, COLDTIER_TABLES } from '../src/workflows/search-attributes';
import { bronzeTable, makeTestEnv } from './helpers/coldtier';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

test('a maintenance run started by the schedule (backfilled 02:00 UTC) audits 00:00 → 24:00 of the previous day', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_ms${tag}`)] });
  const { settings } = env;
  const table = settings.tables[0]!.name;
  const ids = scheduleIds(`test-${env.tag}`);
  const services = await openServices(settings);
  const { ch, pool } = services;
  const client = await connectClient(settings.temporal);
  // The schedule's 02:00 UTC action two days ago; it audits the calendar day before it.
  const scheduled = Math.floor(Date.now() / DAY) * DAY - 2 * DAY + 2 * HOUR;
  const day = scheduled - 2 * HOUR - DAY;
  try {
    await createBronzeTable(ch, table);
    await insertTrades(ch, table, { rows: 300, exchange: 'binance', seed: 1, eventTimeEnd: new Date(day + 20 * HOUR), spreadSeconds: 18 * 3600 });
    await insertTrades(ch, table, { rows: 70, exchange: 'binance', seed: 2, eventTimeEnd: new Date(scheduled - 30 * 60_000), spreadSeconds: 3600 }); // the buffer hours
    await insertTrades(ch, table, { rows: 50, exchange: 'binance', seed: 3, eventTimeEnd: new Date(day - HOUR), spreadSeconds: 3600 }); // the day before
    assert.equal((await createActivities({ settings, ...services }).offloadTable({ table })).rows, 420);

    // The real schedule definition (its maintenance parameters, this run's task queue), audit stage only.
    const def = desiredSchedules(settings, ids).maintenance;
    await client.schedule.create({ ...def, action: { ...def.action, args: [{ ...MAINTENANCE_INPUT, stages: ['audit'] }] } });
    const worker = await createWorker(settings, { services });
    const result = await worker.runUntil(async () => {
      await backfillSchedule(client, ids.maintenance, new Date(scheduled - HOUR), new Date(scheduled + HOUR));
      const workflowId = `${ids.maintenance}-${new Date(scheduled).toISOString().replace('.000', '')}`;
      for (let deadline = Date.now() + 30_000; (await client.schedule.getHandle(ids.maintenance).describe()).info.numActionsTaken < 1; ) {
        if (Date.now() > deadline) throw new Error(`${ids.maintenance} took no action for the backfill`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const handle = client.workflow.getHandle(workflowId);
      const r = (await handle.result()) as MaintenanceWorkflowResult;
      const d = await handle.describe();
      assert.equal(d.typedSearchAttributes.get(SCHEDULED_START)?.getTime(), scheduled, 'started by the schedule for the backfilled action time');
      assert.equal(d.typedSearchAttributes.get(COLDTIER_STATUS), 'ok');
      assert.deepEqual(d.typedSearchAttributes.get(COLDTIER_TABLES), [table]);
      return r;
    });

    assert.equal(MAINTENANCE_INPUT.auditBufferHours, 2);
    assert.deepEqual(result.auditWindow, { start: new Date(day).toISOString(), end: new Date(day + DAY).toISOString() });
    const audit = result.tables[0]!.audit!;
    assert.equal(audit.status, 'ok', audit.notes);
    assert.equal(audit.clickhouseRows, 300, 'only the previous calendar day: not the buffer hours, not the day before');
    assert.equal(audit.icebergRows, 300);
    const logged = await pool.query<{ window_start: Date; window_end: Date; status: string }>('SELECT window_start, window_end, status FROM maintenance_audit_log WHERE iceberg_table = $1', [`cold.${table}`]);
    assert.deepEqual(logged.rows, [{ window_start: new Date(day), window_end: new Date(day + DAY), status: 'ok' }]);
  } finally {
    await client.schedule.getHandle(ids.maintenance).delete().catch(() => undefined);
    await client.connection.close();
    await services.close();
  }
});
