// Scenario 6: bad source data and schema drift, all in one cycle so that each case is seen next to tables that keep
// going. Every case ends in a schema evolution or in a clear non-retryable failure naming the table (and the column):
//   evolve  — ADD COLUMN: the schema evolves, old rows read null; a new Float64 column carries NaN and ±Inf
//   narrow  — MODIFY COLUMN Int64 → Int32: refused (long → int is no Iceberg promotion)
//   retype  — MODIFY COLUMN String → Int64: refused
//   bytes   — NUL inside strings is stored as-is; a string that is not UTF-8 is refused (Iceberg strings are UTF-8)
//   epoch   — event times before 1970 (and just before the epoch) and after 2100: exact, in the right day partitions
//   dropped — the source table is dropped: refused, naming the source
//   steady  — an ordinary table in the same cycles
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTable } from '../../src/iceberg';
import type { OffloadTableResult, OffloadWorkflowResult } from '../../src/activities/types';
import type { ClickHouse } from '../../src/clickhouse/client';
import { readWatermark } from '../../src/db/watermarks';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { currentSchema, listDataFiles } from '../../src/iceberg';
import { createWorker } from '../../src/worker';
import { bronzeTable } from '../helpers/coldtier';
import { attemptsByTable, census, compare, harness, report, type Harness } from './helpers';

const CASES = ['evolve', 'narrow', 'retype', 'bytes', 'epoch', 'dropped', 'steady'] as const;
type Case = (typeof CASES)[number];

/** Inserts `rows` trades whose extra columns and event time are SQL expressions over `number`. */
async function insertRows(ch: ClickHouse, table: string, rows: number, o: { ts?: string; tradeId?: string; extra?: Record<string, string> } = {}) {
  const [r] = await ch.json<{ next: string }>(`SELECT toString(coalesce(max(sequence), 0) + 1) AS next FROM ${table}`);
  const extra = Object.entries(o.extra ?? {});
  await ch.command(
    `INSERT INTO ${table} (exchange, symbol, trade_id, side, price, quantity, exchange_timestamp, sequence${extra.map(([c]) => `, ${c}`).join('')})
     SELECT 'kraken', 'BTC-USD', ${o.tradeId ?? `concat('t-', toString(number))`}, 'buy', toDecimal64(100, 8), toDecimal64(1, 8),
            ${o.ts ?? 'now64(6)'}, ${r!.next} + number${extra.map(([, e]) => `, ${e}`).join('')}
     FROM numbers(${rows})`,
  );
}

const cycle = async (h: Harness, name: string) => {
  const handle = await h.client.workflow.start('offloadWorkflow', { taskQueue: h.taskQueue, workflowId: `drift-${name}-${h.tag}`, args: [{}] });
  const result = (await handle.result()) as OffloadWorkflowResult;
  return { result, byTable: new Map<string, OffloadTableResult>(result.tables.map((t) => [t.table, t])), attempts: await attemptsByTable(handle) };
};

test('faults 6: schema drift and bad source data end in evolution or a clear non-retryable failure; other tables keep going', async () => {
  const h = await harness({ tables: (tag) => CASES.map((c) => bronzeTable(`bronze_${c}_${tag}`)) });
  const t = Object.fromEntries(CASES.map((c, i) => [c, h.settings.tables[i]!.name])) as Record<Case, string>;
  const worker = await createWorker(h.settings, { services: { pool: h.pool, ch: h.ch, io: h.io, close: async () => undefined } });
  try {
    await worker.runUntil(async () => {
      for (const c of CASES) await createBronzeTable(h.ch, t[c]);
      await h.ch.command(`ALTER TABLE ${t.narrow} ADD COLUMN venue_id Int64 DEFAULT 7`);
      await h.ch.command(`ALTER TABLE ${t.retype} ADD COLUMN code String DEFAULT '42'`);
      for (const c of CASES) await insertTrades(h.ch, t[c], { rows: 1_000, exchange: 'kraken', seed: 1 });
      // NUL bytes inside strings are valid UTF-8: they must survive as they are.
      await insertRows(h.ch, t.bytes, 50, { tradeId: `concat('nul', char(0), 'in', char(0), toString(number))` });

      const first = await cycle(h, 'first');
      assert.equal(first.result.status, 'ok', JSON.stringify(first.result.tables.filter((x) => x.status === 'failed')));
      const [nul] = await h.ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${h.ice(t.bytes)} WHERE position(trade_id, char(0)) > 0`);
      assert.equal(nul!.n, '50', 'strings with NUL bytes read back as they are');
      const withNul = await compare(h, t.bytes);
      assert.deepEqual(withNul.cold, withNul.source);

      // The drift, all at once.
      await h.ch.command(`ALTER TABLE ${t.evolve} ADD COLUMN venue Nullable(String), ADD COLUMN fee Float64`);
      await insertRows(h.ch, t.evolve, 400, { extra: { venue: `'v' || toString(number % 3)`, fee: `[nan, inf, -inf, 0.25][1 + number % 4]` } });
      await h.ch.command(`ALTER TABLE ${t.narrow} MODIFY COLUMN venue_id Int32`);
      await insertTrades(h.ch, t.narrow, { rows: 100, exchange: 'kraken', seed: 2 });
      await h.ch.command(`ALTER TABLE ${t.retype} MODIFY COLUMN code Int64`);
      await insertTrades(h.ch, t.retype, { rows: 100, exchange: 'kraken', seed: 2 });
      await insertRows(h.ch, t.bytes, 1, { tradeId: `unhex('FF41')` });
      await insertRows(h.ch, t.epoch, 100, { ts: `toDateTime64('1950-06-01 12:00:00', 6, 'UTC') + toIntervalSecond(number * 60)` });
      await insertRows(h.ch, t.epoch, 100, { ts: `toDateTime64('1969-12-31 23:59:59.000001', 6, 'UTC') + toIntervalMicrosecond(number * 20000)` });
      await insertRows(h.ch, t.epoch, 100, { ts: `toDateTime64('2150-01-01 00:00:00', 6, 'UTC') + toIntervalHour(number)` });
      const dropped = await readWatermark(h.pool, h.id(t.dropped));
      await h.ch.command(`DROP TABLE ${t.dropped}`);
      await insertTrades(h.ch, t.steady, { rows: 500, exchange: 'kraken', seed: 2 });
      const before = new Map<Case, string[] | undefined>();
      for (const c of ['narrow', 'retype', 'bytes'] as const) before.set(c, (await readWatermark(h.pool, h.id(t[c])))?.values);

      const second = await cycle(h, 'second');
      const r = second.byTable;
      assert.equal(second.result.status, 'partial');

      // evolve: new optional columns; the 1000 old rows read null; NaN and ±Inf survive; bounds skip NaN.
      assert.equal(r.get(t.evolve)!.status, 'committed', r.get(t.evolve)!.reason);
      const schema = currentSchema((await loadTable(h.pool, h.io, h.id(t.evolve)))!.metadata);
      const venue = schema.fields.find((f) => f.name === 'venue');
      const fee = schema.fields.find((f) => f.name === 'fee');
      assert.ok(venue && !venue.required && venue.type === 'string');
      assert.ok(fee && !fee.required && fee.type === 'double');
      const [ev] = await h.ch.json<Record<string, string>>(
        `SELECT toString(countIf(isNull(venue))) AS old, toString(countIf(isNaN(fee))) AS nan, toString(countIf(fee = inf)) AS pinf,
                toString(countIf(fee = -inf)) AS ninf, toString(countIf(fee = 0.25)) AS quarter FROM ${h.ice(t.evolve)}`,
      );
      assert.deepEqual(ev, { old: '1000', nan: '100', pinf: '100', ninf: '100', quarter: '100' });
      const feeFiles = (await listDataFiles(h.io, (await loadTable(h.pool, h.io, h.id(t.evolve)))!.metadata)).filter((f) => f.nan_value_counts?.[fee.id]);
      assert.equal(feeFiles.reduce((a, f) => a + Number(f.nan_value_counts![fee.id]), 0), 100, 'NaNs are counted in nan_value_counts');
      for (const f of feeFiles) for (const b of [f.lower_bounds?.[fee.id], f.upper_bounds?.[fee.id]]) if (b) assert.ok(!Number.isNaN(Buffer.from(b).readDoubleLE(0)), 'no NaN in bounds');

      // narrow, retype, bytes, dropped: one attempt each (non-retryable), a message naming table (and column), nothing written.
      const refused: [Case, RegExp][] = [
        ['narrow', new RegExp(`iceberg schema evolution for ${t.narrow}: column venue_id: type changed from long to int, which is not an allowed Iceberg promotion`)],
        ['retype', new RegExp(`iceberg schema evolution for ${t.retype}: column code: type changed from string to long`)],
        ['bytes', new RegExp(`at column trade_id: table (\\S+/)?${t.bytes}: a value is not valid UTF-8 \\(bytes ff41\\); Iceberg strings must be UTF-8`)],
        ['dropped', new RegExp(`clickhouse source default\\.${t.dropped} of table ${t.dropped} does not exist`)],
      ];
      for (const [c, message] of refused) {
        const res = r.get(t[c])!;
        assert.equal(res.status, 'failed', c);
        assert.match(res.reason!, message);
        assert.equal(second.attempts.get(t[c]), 1, `${c}: failed at once, not retried`);
      }
      for (const c of ['narrow', 'retype', 'bytes'] as const) assert.deepEqual((await readWatermark(h.pool, h.id(t[c])))?.values, before.get(c), `${c}: watermark unchanged`);
      assert.deepEqual((await readWatermark(h.pool, h.id(t.dropped)))?.values, dropped?.values);

      // epoch: exact, and every row in its own day partition (1950-06-01, 1969-12-31 / 1970-01-01, 2150-01-0x).
      assert.equal(r.get(t.epoch)!.status, 'committed', r.get(t.epoch)!.reason);
      const epoch = await compare(h, t.epoch);
      assert.deepEqual(epoch.cold, epoch.source);
      const early = `exchange_timestamp < toDateTime64('1970-01-01 00:00:00', 6, 'UTC')`;
      const [a] = await h.ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${h.ice(t.epoch)} WHERE ${early}`);
      const [b] = await h.ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${t.epoch} WHERE ${early}`);
      assert.equal(a!.n, b!.n, 'a filtered read (partition and bounds pruning) finds every pre-1970 row');
      const days = new Set((await listDataFiles(h.io, (await loadTable(h.pool, h.io, h.id(t.epoch)))!.metadata)).map((f) => /exchange_timestamp_day=([^/]+)/.exec(f.file_path)?.[1]));
      for (const d of ['1950-06-01', '1969-12-31', '1970-01-01', '2150-01-01', '2150-01-05']) assert.ok(days.has(d), `partition ${d} in ${[...days].join(', ')}`);

      assert.equal(r.get(t.steady)!.rows, 500, 'an unrelated table kept going');
      // What Iceberg must hold now: everything for the tables that committed, the first cycle's rows for the refused.
      const expectedRows: Record<Case, number> = { evolve: 1_400, narrow: 1_000, retype: 1_000, bytes: 1_050, epoch: 1_300, dropped: 1_000, steady: 1_500 };
      for (const c of CASES) {
        const files = await census(h, t[c]);
        assert.deepEqual(files.missing, []);
        const [cold] = await h.ch.json<{ n: string; keys: string }>(`SELECT toString(count()) AS n, toString(uniqExact(exchange, sequence)) AS keys FROM ${h.ice(t[c])}`);
        assert.equal(cold!.n, String(expectedRows[c]), c);
        assert.equal(cold!.keys, cold!.n, `${c}: no duplicates`);
        if (r.get(t[c])!.status === 'committed') {
          const cmp = await compare(h, t[c]);
          assert.deepEqual(cmp.cold, cmp.source, `${c}: Iceberg equals the source`);
        }
        report({
          scenario: `6 ${c}`,
          faults: {
            evolve: 'ADD COLUMN venue Nullable(String), fee Float64 with NaN/±Inf → schema evolved, old rows null',
            narrow: 'MODIFY COLUMN Int64 → Int32 → non-retryable, names table + column',
            retype: 'MODIFY COLUMN String → Int64 → non-retryable, names table + column',
            bytes: 'NUL in strings stored as-is; invalid UTF-8 → non-retryable, names table + column',
            epoch: 'event times 1950, 1969-12-31T23:59:59.x, 2150 → exact, day partitions right',
            dropped: 'source table dropped → non-retryable, names table + source',
            steady: 'unrelated table in the same cycles → committed',
          }[c],
          expected: expectedRows[c],
          found: cold!.n,
          duplicates: Number(cold!.n) - Number(cold!.keys),
          orphaned: files.orphaned.length,
        });
      }
    });
  } finally {
    await h.close();
  }
});
