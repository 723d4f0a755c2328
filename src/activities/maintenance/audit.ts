import { describeSource, qualified, quote } from '../../clickhouse/client';
import { tableConfig, tableIdent, timeColumn } from '../../config/lookup';
import { loadTable, scanColumns } from '../../iceberg';
import { metrics } from '../../metrics/registry';
import { workflowId } from '../context';
import type { ActivityDeps } from '../deps';
import type { AuditStatus, AuditTableInput, AuditTableResult } from '../types';
import { parseWindow } from '../window';

const HOUR = 3_600_000;

/**
 * The seeds' thresholds (DECISION-017): Iceberg at or above ClickHouse is ok (cold keeps all history); within 1 %
 * below is ok; 1–5 % below is a warning; more than 5 % below is missing data.
 */
export function auditStatus(clickhouse: number, iceberg: number): { status: AuditStatus; deltaPct: number } {
  const deltaPct = clickhouse === 0 ? (iceberg === 0 ? 0 : 100) : ((iceberg - clickhouse) / clickhouse) * 100;
  // The thresholds on the integer counts (no float rounding at exactly −1 % / −5 %).
  const short = (clickhouse - iceberg) * 100;
  if (short <= clickhouse) return { status: 'ok', deltaPct };
  return { status: short <= clickhouse * 5 ? 'warning' : 'missing_data', deltaPct };
}

/**
 * Compares ClickHouse and Iceberg row counts per hour of event time over the window and logs one row in
 * maintenance_audit_log. Errors are audited too (status error) rather than thrown, so every table gets a verdict;
 * only a failed write of that row throws (the activity retries, then the workflow records the table as error).
 * A rollup (closedWindowSeconds > 0) counts only the windows closed by the window end, in both systems alike.
 */
export async function auditTable(deps: ActivityDeps, input: AuditTableInput): Promise<AuditTableResult> {
  const cfg = tableConfig(deps.settings, input.table);
  const w = parseWindow(`audit of ${cfg.name}`, input.windowStart, input.windowEnd);
  const result: AuditTableResult = {
    table: cfg.name, windowStart: w.from.toISOString(), windowEnd: w.to.toISOString(),
    clickhouseRows: 0, icebergRows: 0, deltaPct: 0, status: 'ok', hoursDiffering: [], notes: '',
  };
  try {
    const time = timeColumn(cfg);
    await describeSource(deps.ch, cfg.name, cfg.source);
    const src = qualified(deps.ch, cfg.source).sql;
    // Rollups: only windows closed by the window end ([time, time + closedWindowSeconds) ended), on both sides alike.
    // An open window is not offloaded yet (the offload takes it once closed), so counting it would flag a false gap.
    const closedMs = cfg.closedWindowSeconds * 1000;
    const lastClosedUs = BigInt(w.to.getTime() - closedMs) * 1000n;
    const ch = new Map<number, number>();
    const rows = await deps.ch.json<{ h: string; n: string }>(
      `SELECT toString(toUnixTimestamp(toStartOfHour(${quote(time)}, 'UTC')) * 1000) AS h, toString(count()) AS n FROM ${src}
       WHERE ${quote(time)} >= fromUnixTimestamp64Milli({f:Int64}) AND ${quote(time)} < fromUnixTimestamp64Milli({t:Int64})
       ${closedMs > 0 ? `AND ${quote(time)} <= fromUnixTimestamp64Milli({c:Int64})` : ''} GROUP BY h`,
      { f: w.from.getTime(), t: w.to.getTime(), ...(closedMs > 0 ? { c: w.to.getTime() - closedMs } : {}) },
    );
    for (const r of rows) ch.set(Number(r.h), Number(r.n));
    const ice = new Map<number, number>();
    const table = await loadTable(deps.pool, deps.io, tableIdent(deps.settings, cfg.name));
    if (table) {
      for await (const part of scanColumns(deps.io, table.metadata, { columns: [time], filter: { column: time, fromMs: w.from.getTime(), toMs: w.to.getTime() } })) {
        const v = part.getChildAt(0)!;
        for (let i = 0; i < part.numRows; i++) {
          const us = v.get(i) as bigint;
          if (closedMs > 0 && us > lastClosedUs) continue;
          const h = Math.floor(Number(us / 1000n) / HOUR) * HOUR;
          ice.set(h, (ice.get(h) ?? 0) + 1);
        }
      }
    }
    for (const h of [...new Set([...ch.keys(), ...ice.keys()])].sort((a, b) => a - b)) {
      const c = ch.get(h) ?? 0;
      const i = ice.get(h) ?? 0;
      result.clickhouseRows += c;
      result.icebergRows += i;
      if (c !== i) result.hoursDiffering.push({ hour: new Date(h).toISOString(), clickhouse: c, iceberg: i });
    }
    Object.assign(result, auditStatus(result.clickhouseRows, result.icebergRows));
    const short = result.hoursDiffering.filter((x) => x.iceberg < x.clickhouse);
    result.notes = [
      short.length
        ? `hours with fewer rows in Iceberg: ${short.map((x) => `${x.hour} (${x.iceberg}/${x.clickhouse})`).join(', ')}; fix with: coldtier repair --table ${cfg.name} --window ${result.windowStart}/${result.windowEnd}`
        : table ? '' : 'the Iceberg table does not exist yet',
      closedMs > 0 ? `rollup: counts only windows closed by ${result.windowEnd} (${time} + ${cfg.closedWindowSeconds} s ≤ window end); open windows are offloaded once they close` : '',
    ].filter(Boolean).join('; ');
  } catch (err) {
    result.status = 'error';
    result.notes = (err as Error).message;
  }
  try {
    await deps.pool.query(
      `INSERT INTO maintenance_audit_log (run_timestamp, workflow_id, iceberg_table, window_start, window_end, ch_row_count, iceberg_row_count, delta_pct, status, notes)
       VALUES (now(), $1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [workflowId(), `${deps.settings.catalog.namespace}.${cfg.name}`, w.from, w.to, result.clickhouseRows, result.icebergRows, result.deltaPct, result.status, result.notes],
    );
  } catch (err) {
    // No verdict on record is an error of the audit: alert on it, and let the activity retry.
    metrics.audited(cfg.name, 'error');
    throw new Error(`audit of ${cfg.name}: could not write its ${result.status} row to maintenance_audit_log (${(err as Error).message}); check DATABASE_URL and the Postgres server`, { cause: err });
  }
  metrics.audited(cfg.name, result.status);
  return result;
}
