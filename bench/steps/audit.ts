// 5. Audit: auditTable over the 24 h window holding all of the offloaded bronze rows.
import { createActivities } from '../../src/activities';
import { bronzeConfig, type Bench } from '../lib/context';
import { tradeSource } from '../lib/data';
import { instrument } from '../lib/phases';
import type { Figure } from '../lib/report';
import { median, timed } from '../lib/stats';

/** The median of the per-run ratios reference ÷ coldtier (> 1: coldtier faster). */
const pairedRatio = (ref: number[], ours: number[]) => median(ours.map((v, i) => ref[i]! / v));

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
  const fpRefs: number[] = [];
  const bothRefs: number[] = [];
  const loc = `${settings.warehouse.slice('file://'.length)}/${settings.catalog.namespace}/${table}`;
  for (let i = 0; i < b.opts.runs; i++) {
    const { s, value } = await timed(() => acts.auditTable({ table, windowStart: src.windowStart.toISOString(), windowEnd: src.windowEnd.toISOString() }));
    if (value.status !== 'ok' || value.icebergRows !== src.rows) throw new Error(`audit: ${value.status}, ${value.icebergRows}/${value.clickhouseRows} rows: ${value.notes}`);
    walls.push(s);
    const window = { f: src.windowStart.toISOString().replace('T', ' ').replace('Z', ''), t: src.windowEnd.toISOString().replace('T', ' ').replace('Z', '') };
    const hourly = (from: string, fingerprint: boolean) => `SELECT toStartOfHour(exchange_timestamp) AS h, count() AS n${fingerprint ? ', sum(cityHash64(*)) AS fp' : ''} FROM ${from} WHERE exchange_timestamp >= {f:DateTime64(6)} AND exchange_timestamp < {t:DateTime64(6)} GROUP BY h`;
    // Reference: ClickHouse's own Iceberg reader doing the Iceberg half of the audit (hourly counts of the table).
    const { s: rs } = await timed(() => b.services.ch.json(hourly(`icebergLocal('${loc}')`, false), window));
    refs.push(rs);
    // Reference 2: the same work as the audit's Iceberg half — hourly rows and a value fingerprint of every column —
    // done by ClickHouse's own Iceberg reader.
    const { s: fs } = await timed(() => b.services.ch.json(hourly(`icebergLocal('${loc}')`, true), window));
    fpRefs.push(fs);
    // Reference 3: the audit's whole work done by ClickHouse itself: the same figures over the source table and over
    // the Iceberg table (icebergLocal), one after the other.
    const { s: bs } = await timed(async () => {
      await b.services.ch.json(hourly(`\`default\`.\`${src.table}\``, true), window);
      await b.services.ch.json(hourly(`icebergLocal('${loc}')`, true), window);
    });
    bothRefs.push(bs);
    b.log(`run ${i + 1}: audit ${s.toFixed(2)} s; chDB icebergLocal hourly count ${rs.toFixed(2)} s; hourly count + fingerprint ${fs.toFixed(2)} s; both sides ${bs.toFixed(2)} s`);
  }
  for (const k of Object.keys(phases)) phases[k] = phases[k]! / b.opts.runs;
  return {
    figures: [
      { step: 'audit', name: `auditTable over 24 h of ${src.rows / 1e6}M rows (${off.files} files)`, unit: 's', value: median(walls), samples: walls, reference: { name: 'chDB icebergLocal hourly count', value: median(refs), samples: refs }, ratio: pairedRatio(refs, walls), target: '≥ 0.8×', met: pairedRatio(refs, walls) >= 0.8 },
      { step: 'audit', name: `auditTable over 24 h of ${src.rows / 1e6}M rows, against the same figures by ClickHouse`, unit: 's', value: median(walls), samples: walls, reference: { name: 'chDB icebergLocal hourly count + value fingerprint (the Iceberg half)', value: median(fpRefs), samples: fpRefs }, ratio: pairedRatio(fpRefs, walls) },
      { step: 'audit', name: `auditTable over 24 h of ${src.rows / 1e6}M rows, against both halves by ClickHouse`, unit: 's', value: median(walls), samples: walls, reference: { name: 'chDB hourly count + value fingerprint of the source table and of icebergLocal, one after the other', value: median(bothRefs), samples: bothRefs }, ratio: pairedRatio(bothRefs, walls) },
    ],
    details: { wallsS: walls, referenceS: refs, fingerprintReferenceS: fpRefs, bothSidesReferenceS: bothRefs, ioPerRunS: phases, files: off.files },
  };
}
