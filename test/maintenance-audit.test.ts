import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { createActivities } from '../src/activities';
import { auditStatus } from '../src/activities/maintenance/audit';
import type { MaintenanceWorkflowResult } from '../src/activities/types';
import { defaultTables } from '../src/config/tables';
import { createBronzeTable, createSilverAndGold, insertTrades } from '../src/feed/synthetic';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { COLDTIER_STATUS, COLDTIER_TABLES } from '../src/workflows/search-attributes';
import { bronzeTable, icebergFunction, makeTestEnv } from './helpers/coldtier';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test('auditStatus: the seeds thresholds at their boundaries', () => {
  const status = (ch: number, ice: number) => auditStatus(ch, ice).status;
  assert.equal(status(1000, 1000), 'ok');
  assert.equal(status(1000, 990), 'ok', 'exactly −1 % is ok');
  assert.equal(status(1000, 989), 'warning', 'just below −1 % is a warning');
  assert.equal(status(100_000, 98_999), 'warning', 'just below −1 % (by one row of 100 000) is a warning');
  assert.equal(status(1000, 950), 'warning', 'exactly −5 % is a warning');
  assert.equal(status(60, 57), 'warning', 'exactly −5 % (60 rows)');
  assert.equal(status(140, 133), 'warning');
  assert.equal(status(1000, 949), 'missing_data', 'just below −5 % is missing data');
  assert.equal(status(100_000, 94_999), 'missing_data');
  assert.equal(status(1000, 0), 'missing_data');
  assert.equal(status(1000, 5000), 'ok', 'Iceberg above ClickHouse is ok: the cold tier keeps all history');
  assert.deepEqual(auditStatus(0, 0), { status: 'ok', deltaPct: 0 });
  assert.deepEqual(auditStatus(0, 12), { status: 'ok', deltaPct: 100 }, 'ClickHouse 0 (expired by TTL) is ok');
  assert.equal(auditStatus(1000, 950).deltaPct, -5);
  assert.equal(auditStatus(1000, 1010).deltaPct, 1);
});

test('a rollup audited mid-day counts only closed windows: the open daily window is not missing data', async () => {
  const gold = defaultTables.find((t) => t.name === 'gold_ohlcv_1d')!;
  const env = await makeTestEnv({ warehouse: 'file', tables: () => [gold] });
  const { settings } = env;
  const services = await openServices(settings);
  const { ch } = services;
  const acts = createActivities({ settings, ...services });
  const client = await connectClient(settings.temporal);
  try {
    await createBronzeTable(ch, 'bronze_trades_binance');
    await createSilverAndGold(ch, ['binance']);
    const today = Math.floor(Date.now() / DAY) * DAY;
    // A closed window (two days ago) and today's window, still open whatever the time of day.
    await insertTrades(ch, 'bronze_trades_binance', { rows: 500, exchange: 'binance', eventTimeEnd: new Date(today - 2 * DAY + 12 * HOUR), spreadSeconds: 6 * 3600, seed: 1 });
    await insertTrades(ch, 'bronze_trades_binance', { rows: 300, exchange: 'binance', eventTimeEnd: new Date(Math.max(Date.now(), today + 60_000)), spreadSeconds: 50, seed: 2 });
    const offloaded = await acts.offloadTable({ table: 'gold_ohlcv_1d' });
    assert.equal(offloaded.status, 'committed');
    const [open] = await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM gold_ohlcv_1d WHERE window_start >= fromUnixTimestamp64Milli(${today})`);
    assert.ok(Number(open!.n) > 0, "today's window is in ClickHouse");
    const [cold] = await ch.json<{ n: string; open: string }>(
      `SELECT toString(count()) AS n, toString(countIf(window_start >= fromUnixTimestamp64Milli(${today}))) AS open FROM ${icebergFunction(env, 'gold_ohlcv_1d')}`,
    );
    assert.equal(cold!.open, '0', "today's window is not offloaded: it is not closed");
    assert.equal(String(offloaded.rows), cold!.n);

    const midDay = new Date(today + 12 * HOUR).toISOString();
    const worker = await createWorker(settings, { services });
    const r = (await worker.runUntil(
      client.workflow.execute('maintenanceWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `maint-gold-${env.tag}`, args: [{ stages: ['audit'], auditWindowHours: 72, auditWindowEnd: midDay }] }),
    )) as MaintenanceWorkflowResult;
    const audit = r.tables[0]!.audit!;
    assert.equal(audit.status, 'ok', audit.notes);
    assert.equal(audit.windowEnd, midDay);
    assert.equal(audit.clickhouseRows, offloaded.rows, 'ClickHouse counted the closed windows only');
    assert.equal(audit.icebergRows, offloaded.rows);
    assert.deepEqual(audit.hoursDiffering, []);
    assert.match(audit.notes, /counts only windows closed by .*window_start \+ 86400 s/);
    const [logged] = (await services.pool.query<{ status: string; ch_row_count: string }>('SELECT status, ch_row_count FROM maintenance_audit_log WHERE iceberg_table = $1', ['cold.gold_ohlcv_1d'])).rows;
    assert.deepEqual(logged, { status: 'ok', ch_row_count: String(offloaded.rows) });
  } finally {
    await client.connection.close();
    await services.close();
  }
});

test('an audit activity that fails for one table: the others are audited, the table is error, the run fails with AuditFailed', async () => {
  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_af${tag}`), bronzeTable(`bronze_trades_ag${tag}`)] });
  const { settings } = env;
  const [broken, fine] = settings.tables.map((t) => t.name) as [string, string];
  const services = await openServices(settings);
  const { ch, pool } = services;
  const acts = createActivities({ settings, ...services });
  const client = await connectClient(settings.temporal);
  try {
    for (const t of [broken, fine]) {
      await createBronzeTable(ch, t);
      await insertTrades(ch, t, { rows: 200, exchange: 'kraken', eventTimeEnd: new Date(Date.now() - 3 * HOUR), spreadSeconds: 1800 });
      await acts.offloadTable({ table: t });
    }
    // Postgres refuses the audit row of one table (a real failure of the activity's INSERT, on every attempt).
    await pool.query(`CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.iceberg_table = 'cold.${broken}' THEN RAISE EXCEPTION 'audit log is read-only for %', NEW.iceberg_table; END IF; RETURN NEW; END $$`);
    await pool.query('CREATE TRIGGER refuse_audit BEFORE INSERT ON maintenance_audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()');

    const workflowId = `maint-audit-error-${env.tag}`;
    const worker = await createWorker(settings, { services });
    const err = await worker.runUntil(
      client.workflow.execute('maintenanceWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId, args: [{ stages: ['audit'], auditWindowHours: 6 }] }).then(
        () => assert.fail('the run should fail'),
        (e: unknown) => e,
      ),
    );
    assert.ok(err instanceof WorkflowFailedError);
    const cause = err.cause;
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'AuditFailed');
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, new RegExp(`${broken}: error .*could not write its ok row to maintenance_audit_log \\(audit log is read-only`));
    assert.doesNotMatch(cause.message, new RegExp(`${fine}:`), 'only the failed table is named');
    const result = cause.details![0] as MaintenanceWorkflowResult;
    const [a, b] = result.tables;
    assert.equal(a!.audit!.status, 'error');
    assert.match(a!.audit!.notes, /^the audit activity failed: .*coldtier maintain --tables/);
    assert.equal(b!.audit!.status, 'ok', 'the table after the failed one was still audited');
    assert.equal(b!.audit!.clickhouseRows, 200);
    const logged = await pool.query<{ iceberg_table: string; status: string }>('SELECT iceberg_table, status FROM maintenance_audit_log WHERE workflow_id = $1', [workflowId]);
    assert.deepEqual(logged.rows, [{ iceberg_table: `cold.${fine}`, status: 'ok' }]);

    const d = await client.workflow.getHandle(workflowId).describe();
    assert.equal(d.typedSearchAttributes.get(COLDTIER_STATUS), 'failed');
    assert.deepEqual(d.typedSearchAttributes.get(COLDTIER_TABLES), [broken, fine]);
  } finally {
    await client.connection.close();
    await services.close();
  }
});
