import { tableConfig, tableIdent } from '../../config/lookup';
import type { TableConfig } from '../../config/tables';
import type { LockGuard } from '../../db/table-lock';
import { lockTable } from '../lock';
import { readWatermark, type TableIdent } from '../../db/watermarks';
import { loadTable, planScanFiles } from '../../iceberg';
import { metrics } from '../../metrics/registry';
import { activityIdentity, log, warn } from '../context';
import type { ActivityDeps } from '../deps';
import { runAttempt, type Attempt } from '../liveness';
import type { RestateWindowInput, RestateWindowResult } from '../types';
import { parseWindow } from '../window';
import { completeInSource, derivedFromConfig, describeRollup, differingWindows, isoOfMicros, rewriteWindows, windowMicros } from './rollup';

const LISTED = 20;

/**
 * Repair of a rollup's stale windows: compares every window of [from, to) at or below the watermark, value for value,
 * between Iceberg and the rollup's source, and restates the windows that differ in one overwrite commit. Running it
 * again (or retrying it after its commit) finds nothing differing and commits nothing. Tables without derivedFrom
 * are not rollups and are left alone.
 */
export async function restateWindow(deps: ActivityDeps, input: RestateWindowInput): Promise<RestateWindowResult> {
  const cfg = tableConfig(deps.settings, input.table);
  const window = parseWindow(`${input.reason ?? 'repair'} of ${cfg.name}`, input.from, input.to);
  if (!cfg.derivedFrom) return { table: cfg.name, status: 'not-a-rollup', windowsCompared: 0, restatedWindows: 0, windows: [], skippedWindows: 0, skipped: [], snapshotId: null, durationMs: 0 };
  const id = tableIdent(deps.settings, cfg.name);
  return lockTable(deps, id, (guard) => runAttempt(deps, guard, (live) => repairLocked(deps, live, guard, cfg, id, window, input)));
}

async function repairLocked(deps: ActivityDeps, live: Attempt, guard: LockGuard, cfg: TableConfig, id: TableIdent, window: { from: Date; to: Date }, input: RestateWindowInput): Promise<RestateWindowResult> {
  const started = Date.now();
  const result: RestateWindowResult = { table: cfg.name, status: 'ok', windowsCompared: 0, restatedWindows: 0, windows: [], skippedWindows: 0, skipped: [], snapshotId: null, durationMs: 0 };
  const done = () => ({ ...result, durationMs: Date.now() - started });
  const table = await loadTable(deps.pool, deps.io, id);
  const wm = await readWatermark(deps.pool, id);
  if (!table || !wm) return done();
  const restateId = activityIdentity(cfg.name).id;
  // A retry of an attempt whose commit landed: report that commit (a new comparison would find nothing to do).
  const earlier = table.metadata.snapshots.find((s) => s.summary?.['coldtier.restate-id'] === restateId);
  if (earlier) return { ...done(), status: 'restated', restatedWindows: Number(earlier.summary!['coldtier.restated-windows'] ?? 0), snapshotId: String(earlier['snapshot-id']) };
  const rollup = await describeRollup(live.ch, cfg, id);
  const files = await planScanFiles(deps.io, table.metadata, { filter: { column: rollup.windowColumn, fromMs: window.from.getTime(), toMs: window.to.getTime() } });
  // Windows above the watermark are not offloaded yet: the regular offload takes them.
  const w = windowMicros(rollup);
  const { compared, differing: changed } = await differingWindows(deps, live, rollup, files, {
    sql: `${w} >= {from:Int64} AND ${w} < {to:Int64} AND ${w} <= toUnixTimestamp64Micro(toDateTime64({offloaded:${rollup.windowType}}, 6, 'UTC'))`,
    params: { from: window.from.getTime() * 1000, to: window.to.getTime() * 1000, offloaded: (wm.committedTo ?? wm.values)[0]! },
  });
  result.windowsCompared = compared;
  const from = derivedFromConfig(deps.settings, cfg);
  const fromWm = await readWatermark(deps.pool, tableIdent(deps.settings, from.cfg.name));
  const { complete: differing, incomplete } = await completeInSource(deps, live, rollup, from, fromWm ? (fromWm.committedTo ?? fromWm.values) : null, changed);
  if (incomplete.length) {
    Object.assign(result, { skippedWindows: incomplete.length, skipped: incomplete.slice(0, LISTED).map(isoOfMicros) });
    warn('stale rollup windows not restated: ClickHouse no longer holds all their rows (TTL?); Iceberg keeps them as they were', { table: cfg.name, derivedFrom: from.cfg.name, windows: result.skipped });
  }
  if (!differing.length) return done();
  live.beat({ table: cfg.name, stage: 'restating', windows: differing.length });
  const committed = await rewriteWindows(deps, live, guard, rollup, table, differing, {
    summary: {
      'coldtier.restate-id': restateId,
      'coldtier.restate-reason': input.reason ?? 'repair',
      'coldtier.restated-windows': String(differing.length),
      'coldtier.restate-window': `${window.from.toISOString()}/${window.to.toISOString()}`,
      'coldtier.source': cfg.source,
    },
  });
  if (!committed) return done();
  metrics.restated(cfg.name, differing.length);
  Object.assign(result, { status: 'restated', restatedWindows: differing.length, windows: differing.slice(0, LISTED).map(isoOfMicros), snapshotId: committed.prepared.snapshotId.toString() });
  log('stale rollup windows restated', { table: cfg.name, windows: differing.length, snapshotId: result.snapshotId });
  return done();
}
