// scanColumns (audit/backfill reads): per-hour counts equal ClickHouse's,
// timestamps are exact to the µs, only requested columns come back, and files
// that cannot match are never opened.

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { planScanFiles, scanColumns, type ScanStats } from '../../src/iceberg';
import { openChdb, type Chdb } from './helpers';
import { appendBatch, createTradesTable, io } from './maintenance-helpers';

let ch: Chdb;
before(() => {
  ch = openChdb();
});
after(async () => {
  await ch.close();
});

const HOUR_US = 3_600_000_000n;
const ms = (iso: string) => Date.parse(iso);
const stats = (): ScanStats => ({ manifests: 0, manifestsSkipped: 0, files: 0, filesSkipped: 0, rowsRead: 0, rowsReturned: 0 });

it('counts rows per hour like ClickHouse, with exact µs timestamps and pruned files', async () => {
  const t = await createTradesTable(ch, 'scan');
  // 12 appends of 300 rows (6 h each) over 3 days: 12+ files, a few per day partition.
  for (let i = 0; i < 12; i++) await appendBatch(ch, t, i * 300, 300);

  const from = '2026-11-20 21:00:00';
  const to = '2026-11-21 04:00:00';
  const filter = { column: 'ts', fromMs: ms(`${from}Z`), toMs: ms(`${to}Z`) };
  const s = stats();
  const perHour = new Map<string, number>();
  const seen: Array<[string, string]> = [];
  for await (const table of scanColumns(io, t.head.metadata, { columns: ['ts', 'id'], filter, stats: s })) {
    assert.deepEqual(table.schema.fields.map((f) => f.name), ['ts', 'id']);
    const ts = table.getChild('ts')!;
    const id = table.getChild('id')!;
    for (let i = 0; i < table.numRows; i++) {
      const us = ts.get(i) as bigint;
      assert.equal(typeof us, 'bigint', 'timestamps come out as bigint µs');
      const hour = new Date(Number((us / HOUR_US) * 3_600_000n)).toISOString();
      perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
      seen.push([String(id.get(i)), us.toString()]);
    }
  }
  const expected = await ch.rows<{ h: string; c: string }>(`SELECT formatDateTime(toStartOfHour(ts), '%Y-%m-%dT%H:00:00.000Z', 'UTC') AS h, toString(count()) AS c
    FROM ${t.source} WHERE ts >= toDateTime64('${from}', 6, 'UTC') AND ts < toDateTime64('${to}', 6, 'UTC') GROUP BY h ORDER BY h`);
  assert.equal(expected.length, 7);
  assert.deepEqual([...perHour].sort().map(([h, c]) => ({ h, c: String(c) })), expected);

  // Exact µs: the same (id, µs) pairs ClickHouse has (the feed's timestamps have odd µs).
  const exact = await ch.rows<{ id: string; us: string }>(`SELECT toString(id) AS id, toString(toUnixTimestamp64Micro(ts)) AS us
    FROM ${t.source} WHERE ts >= toDateTime64('${from}', 6, 'UTC') AND ts < toDateTime64('${to}', 6, 'UTC') ORDER BY id`);
  assert.deepEqual(seen.sort((a, b) => Number(a[0]) - Number(b[0])), exact.map((r) => [r.id, r.us]));
  assert.ok(exact.some((r) => !r.us.endsWith('000')), 'the range holds timestamps with sub-ms digits');

  // Pruning: files of other days (partition values) and of other hours of the same days (column bounds) are skipped.
  const all = await planScanFiles(io, t.head.metadata);
  assert.equal(s.files + s.filesSkipped, all.length);
  assert.ok(s.filesSkipped >= all.length / 2, `skipped ${s.filesSkipped} of ${all.length} files`);
  assert.equal(s.rowsReturned, exact.length);
  assert.ok(s.rowsRead < 3600);

  // A range inside one day: only that day's overlapping files are read.
  const narrow = stats();
  const one = await planScanFiles(io, t.head.metadata, { filter: { column: 'ts', fromMs: ms('2026-11-21T07:00:00Z'), toMs: ms('2026-11-21T08:00:00Z') } }, narrow);
  assert.equal(one.length, 1, 'one append covers 07:00-08:00');
  assert.equal(narrow.filesSkipped, all.length - 1);

  // A range with no data reads nothing; the filter column need not be among the columns.
  const none = stats();
  const out = [];
  for await (const x of scanColumns(io, t.head.metadata, { columns: ['id'], filter: { column: 'ts', fromMs: ms('2027-01-01T00:00:00Z'), toMs: ms('2027-01-02T00:00:00Z') }, stats: none })) out.push(x);
  assert.equal(out.length, 0);
  assert.equal(none.files, 0);

  // Without a filter every row comes back; columns are resolved by name → field id.
  let rows = 0;
  for await (const x of scanColumns(io, t.head.metadata, { columns: ['symbol'] })) {
    assert.deepEqual(x.schema.fields.map((f) => f.name), ['symbol']);
    rows += x.numRows;
  }
  assert.equal(rows, 3600);
  await assert.rejects(async () => {
    for await (const _ of scanColumns(io, t.head.metadata, { columns: ['nope'] })) void _;
  }, /column "nope" is not in the schema/);
  await assert.rejects(planScanFiles(io, t.head.metadata, { filter: { column: 'symbol', fromMs: 0, toMs: 1 } }), /not a timestamp/);
});
