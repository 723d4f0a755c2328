// 6. Federation: one event-time-filtered query through the federated view <table>_all, against the same query on
// the hot table alone and on the Iceberg table alone (ClickHouse's own icebergLocal), in one run.
import { createActivities } from '../../src/activities';
import { applyViews } from '../../src/clickhouse/federated-views';
import { insertTrades } from '../../src/feed/synthetic';
import { bronzeConfig, type Bench } from '../lib/context';
import { tradeSource } from '../lib/data';
import type { Figure } from '../lib/report';
import { median, timed } from '../lib/stats';

const HOUR = 3_600_000;

export async function federateStep(b: Bench): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  // Its own source: the step adds rows that stay hot, which the audit step's source must not get.
  const src = await tradeSource(b, 'fed_trades', b.opts.rows, { spreadSeconds: 4 * 86_400 });
  const table = 'fed_target';
  const settings = b.settings({ tag: 'federate', tables: [bronzeConfig(table, src.table)] });
  const acts = createActivities({ settings, pool: b.services.pool, ch: b.services.ch, io: b.services.io });
  const off = await acts.offloadTable({ table });
  // The newest tenth of the rows arrives after the offload: the view reads them from the hot side.
  const hotRows = Math.ceil(src.rows / 10);
  await insertTrades(b.services.ch, src.table, { rows: hotRows, exchange: 'binance', seed: 7, spreadSeconds: 3600, eventTimeEnd: src.windowEnd });
  await applyViews(settings, b.services);
  b.log(`offloaded ${off.rows} rows into ${table} (${off.files} files), ${hotRows} more rows hot; view ${table}_all applied`);

  // The last 6 hours of event time: one day partition of four in Iceberg, plus the hot rows.
  const from = new Date(src.windowEnd.getTime() - 6 * HOUR).toISOString().replace('T', ' ').replace('Z', '');
  const loc = `${settings.warehouse.slice('file://'.length)}/${settings.catalog.namespace}/${table}`;
  const targets = {
    view: `\`default\`.\`${table}_all\``,
    hot: `\`default\`.\`${src.table}\``,
    iceberg: `icebergLocal('${loc}')`,
  };
  const query = (from_: string) =>
    `SELECT count() AS n, toString(sum(quantity)) AS q, uniqExact(symbol) AS s FROM ${from_} WHERE exchange_timestamp >= {f:DateTime64(6, 'UTC')}`;
  const times: Record<keyof typeof targets, number[]> = { view: [], hot: [], iceberg: [] };
  const rows: Record<string, number> = {};
  for (let i = 0; i < b.opts.runs; i++) {
    for (const k of Object.keys(targets) as (keyof typeof targets)[]) {
      const { s, value } = await timed(() => b.services.ch.json<{ n: string }>(query(targets[k]), { f: from }));
      times[k].push(s);
      rows[k] = Number(value[0]?.n ?? 0);
    }
    b.log(`run ${i + 1}: view ${times.view.at(-1)!.toFixed(3)} s, hot alone ${times.hot.at(-1)!.toFixed(3)} s, Iceberg alone ${times.iceberg.at(-1)!.toFixed(3)} s`);
  }
  // The hot table still holds every row (no TTL ran), so the view and the hot table answer the same count.
  if (rows.view !== rows.hot) throw new Error(`federate: the view counted ${rows.view} rows, the hot table ${rows.hot}`);
  const name = (what: string) => `filtered query (last 6 h of ${src.rows / 1e6}M + ${hotRows / 1e6}M rows) through ${table}_all vs ${what}`;
  const fig = (what: string, ref: number[]): Figure => ({
    step: 'federate',
    name: name(what),
    unit: 's',
    value: median(times.view),
    samples: times.view,
    reference: { name: what, value: median(ref), samples: ref },
    ratio: median(ref) / median(times.view),
  });
  return {
    figures: [fig('the hot table alone', times.hot), fig('the Iceberg table alone (icebergLocal)', times.iceberg)],
    details: { times, rows, files: off.files, hotRows },
  };
}
