// 5. Audit: auditTable over the 24 h window holding all of the offloaded bronze rows.
import { createActivities } from '../../src/activities';
import { bronzeConfig, type Bench } from '../lib/context';
import { tradeSource } from '../lib/data';
import { instrument } from '../lib/phases';
import type { Figure } from '../lib/report';
import { median, timed } from '../lib/stats';

export async function auditStep(b: Bench): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const src = await tradeSource(b, 'bench_trades', b.opts.rows);
  const table = 'audit_target';
  const settings = b.settings({ tag: 'audit', tables: [bronzeConfig(table, src.table)] });
  const plain = createActivities({ settings, pool: b.services.pool, ch: b.services.ch, io: b.services.io });
  const off = await plain.offloadTable({ table });
  b.log(`offloaded ${off.rows} rows into ${table} (${off.files} files) for the audit`);
  const { ch, io, phases } = instrument(b.services.ch, b.services.io);
  const acts = createActivities({ settings, pool: b.services.pool, ch, io });
  const walls: number[] = [];
  const refs: number[] = [];
  const loc = `${settings.warehouse.slice('file://'.length)}/${settings.catalog.namespace}/${table}`;
  for (let i = 0; i < b.opts.runs; i++) {
    const { s, value } = await timed(() => acts.auditTable({ table, windowStart: src.windowStart.toISOString(), windowEnd: src.windowEnd.toISOString() }));
    if (value.status !== 'ok' || value.icebergRows !== src.rows) throw new Error(`audit: ${value.status}, ${value.icebergRows}/${value.clickhouseRows} rows: ${value.notes}`);
    walls.push(s);
    // Reference: ClickHouse's own Iceberg reader doing the Iceberg half of the audit (hourly counts of the table).
    const { s: rs } = await timed(() => b.services.ch.json(`SELECT toStartOfHour(exchange_timestamp) AS h, count() AS n FROM icebergLocal('${loc}') WHERE exchange_timestamp >= {f:DateTime64(6)} AND exchange_timestamp < {t:DateTime64(6)} GROUP BY h`, { f: src.windowStart.toISOString().replace('T', ' ').replace('Z', ''), t: src.windowEnd.toISOString().replace('T', ' ').replace('Z', '') }));
    refs.push(rs);
    b.log(`run ${i + 1}: audit ${s.toFixed(2)} s; chDB icebergLocal hourly count ${rs.toFixed(2)} s`);
  }
  for (const k of Object.keys(phases)) phases[k] = phases[k]! / b.opts.runs;
  return {
    figures: [
      { step: 'audit', name: `auditTable over 24 h of ${src.rows / 1e6}M rows (${off.files} files)`, unit: 's', value: median(walls), samples: walls, reference: { name: 'chDB icebergLocal hourly count', value: median(refs), samples: refs }, ratio: median(refs) / median(walls) },
    ],
    details: { wallsS: walls, referenceS: refs, ioPerRunS: phases, files: off.files },
  };
}
