import { describeSource, qualified } from '../../clickhouse/client';
import { sourceTtl, ttlSeconds } from '../../clickhouse/ttl';
import { tableConfig, tableIdent, timeColumn } from '../../config/lookup';
import { loadTable } from '../../iceberg';
import { metrics } from '../../metrics/registry';
import { workflowId } from '../context';
import type { ActivityDeps } from '../deps';
import type { AuditIssue, AuditStatus, AuditTableInput, AuditTableResult } from '../types';
import { parseWindow } from '../window';
import { describeHour, fingerprintSpec, hourIssue, icebergTableHours, lostRowsOf, NONE, sameHour } from './audit-hours';
import { sourceHours, type HourFigures } from './fingerprint';

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
 * Compares ClickHouse and Iceberg per hour of event time over the window — rows, distinct row keys and a fingerprint
 * of the row values, each computed by ClickHouse (the Iceberg side over the pruned live data files of the current
 * snapshot) — and logs one row in maintenance_audit_log. Errors are audited too (status error) rather than thrown, so
 * every table gets a verdict; only a failed write of that row throws (the activity retries, then the workflow records
 * the table as error). A rollup (closedWindowSeconds > 0) counts only the windows closed by the window end, in both
 * systems alike.
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
    const columns = await describeSource(deps.ch, cfg.name, cfg.source);
    const q = qualified(deps.ch, cfg.source);
    const table = await loadTable(deps.pool, deps.io, tableIdent(deps.settings, cfg.name));
    // Rollups: only windows closed by the window end ([time, time + closedWindowSeconds) ended), on both sides alike.
    // An open window is not offloaded yet (the offload takes it once closed), so counting it would flag a false gap.
    const closedMs = cfg.closedWindowSeconds * 1000;
    const spec = fingerprintSpec(cfg, columns, table?.metadata ?? null, { fromMs: w.from.getTime(), toMs: w.to.getTime(), ...(closedMs > 0 ? { closedUpToMs: w.to.getTime() - closedMs } : {}) });
    // Both sides at once (a ClickHouse server runs them side by side). Rows and fingerprints first; the distinct keys
    // (a hash set per hour) only when some hour differs.
    const both = (withKeys: boolean) => Promise.all([sourceHours(deps.ch, q.sql, spec, withKeys), table ? icebergTableHours(deps, table.metadata, spec, withKeys) : new Map<number, HourFigures>()]);
    let [ch, ice] = await both(false);
    if ([...new Set([...ch.keys(), ...ice.keys()])].some((h) => !sameHour(ch.get(h), ice.get(h)))) [ch, ice] = await both(true);
    // Hours ClickHouse still holds completely: younger than its TTL (a source without TTL holds every hour).
    // A TTL the guard cannot read: every hour is taken as possibly incomplete in ClickHouse (the seeds' rule).
    const ttlRead = await sourceTtl(deps.ch, q.database, q.table).then((ttl) => ({ ttl, note: '' }), (err: Error) => ({ ttl: null, note: `${err.message}; more rows in Iceberg than in ClickHouse is taken as ok in every hour` }));
    const ttl = ttlRead.ttl;
    const heldFromMs = ttl ? Date.now() - ttlSeconds(ttl) * 1000 : ttlRead.note ? Infinity : -Infinity;
    const issues = new Map<AuditIssue, string[]>();
    for (const h of [...new Set([...ch.keys(), ...ice.keys()])].sort((a, b) => a - b)) {
      const c = ch.get(h) ?? NONE;
      const i = ice.get(h) ?? NONE;
      result.clickhouseRows += c.rows;
      result.icebergRows += i.rows;
      const issue = hourIssue(c, i, h >= heldFromMs);
      if (issue || c.rows !== i.rows) {
        const hour = new Date(h).toISOString();
        result.hoursDiffering.push({ hour, clickhouse: c.rows, iceberg: i.rows, clickhouseKeys: c.keys, icebergKeys: i.keys, ...(issue ? { issue } : {}) });
        if (issue) issues.set(issue, [...(issues.get(issue) ?? []), `${hour} (${describeHour(issue, c, i)})`]);
      }
    }
    const counts = auditStatus(result.clickhouseRows, result.icebergRows);
    result.deltaPct = counts.deltaPct;
    result.status = issues.has('duplicate') ? 'duplicate_data' : counts.status === 'missing_data' ? 'missing_data' : issues.has('mismatch') ? 'mismatch' : counts.status;
    const repair = `coldtier repair --table ${cfg.name} --window ${result.windowStart}/${result.windowEnd}`;
    // A failed look for lost rows is a note, not a lost verdict: the hour comparison above stands.
    const { lost, lostNote } = table && !ttlRead.note
      ? await lostRowsOf(deps, cfg, columns, w.from).then((text) => ({ lost: text, lostNote: '' }), (err: Error) => ({ lost: null, lostNote: `could not check for rows lost to the TTL: ${err.message}` }))
      : { lost: null, lostNote: '' };
    if (lost && (result.status === 'ok' || result.status === 'warning')) result.status = 'missing_data';
    result.notes = [
      lost ?? lostNote,
      ttlRead.note,
      issues.has('duplicate') ? `hours where Iceberg holds a row twice (rows/distinct keys, Iceberg vs ClickHouse): ${issues.get('duplicate')!.join(', ')}` : '',
      issues.has('missing') ? `hours with fewer rows in Iceberg: ${issues.get('missing')!.join(', ')}` : '',
      issues.has('mismatch') ? `hours whose values differ from ClickHouse (same keys, different values or keys ClickHouse does not have): ${issues.get('mismatch')!.join(', ')}` : '',
      issues.has('duplicate') || issues.has('missing') || issues.has('mismatch') ? `fix with: ${repair}` : table ? '' : 'the Iceberg table does not exist yet',
      ttl && result.hoursDiffering.some((x) => x.issue === 'beyond_ttl') ? `hours before ${new Date(heldFromMs).toISOString()} are past ClickHouse's TTL (${ttl.text}): more rows in Iceberg is expected there` : '',
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
