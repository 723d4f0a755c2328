import type pg from 'pg';
import { describeSource, qualified, quote } from '../../clickhouse/client';
import { rangeWhere, watermarkKey } from '../../clickhouse/range';
import { ConfigError } from '../../config/errors';
import { tableConfig, tableIdent } from '../../config/lookup';
import type { TableConfig } from '../../config/tables';
import { advanceRestatementMark, readRestatementMark, startRestatementMark } from '../../db/restatement';
import type { LockGuard } from '../../db/table-lock';
import { lockTable } from '../lock';
import { readWatermark, type TableIdent } from '../../db/watermarks';
import { loadTable } from '../../iceberg';
import { metrics } from '../../metrics/registry';
import { activityIdentity, log, warn } from '../context';
import type { ActivityDeps } from '../deps';
import { runAttempt, type Attempt } from '../liveness';
import type { RestateTableInput, RestateTableResult } from '../types';
import { completeInSource, derivedFromConfig, describeRollup, differingWindows, filesHolding, isoOfMicros, rewriteWindows, windowMicros, windowSet, type Rollup } from './rollup';

/** How many restated window starts the result lists (the count is always complete). */
const LISTED = 20;

const sameKey = (a: string[] | null, b: string[] | null) => JSON.stringify(a) === JSON.stringify(b);

/** Runs `fn` in a Postgres transaction that first checks the attempt still owns the table (its fence). */
async function fencedTx<T>(pool: pg.Pool, guard: LockGuard, fn: (db: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await guard.checkFence(client);
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}

/**
 * Restates the windows of a rollup that late rows of the table it derives from (new ingestion key, old event time)
 * changed after the window was offloaded. The rows examined are those of the derived-from table with an ingestion key
 * in (restatement mark, that table's highest committed key]; their windows at or below the rollup's committed
 * watermark are recomputed from the rollup's source and replaced in ONE overwrite commit, and the mark moves to the
 * examined key in the same Postgres transaction as the catalog swap. A retry after that commit finds the mark moved
 * and nothing left to restate. The first run only sets the mark: history before it is not examined.
 */
export async function restateTable(deps: ActivityDeps, input: RestateTableInput): Promise<RestateTableResult> {
  const cfg = tableConfig(deps.settings, input.table);
  const id = tableIdent(deps.settings, cfg.name);
  return lockTable(deps, id, (guard) => runAttempt(deps, guard, (live) => restateLocked(deps, live, guard, cfg, id)));
}

async function restateLocked(deps: ActivityDeps, live: Attempt, guard: LockGuard, cfg: TableConfig, id: TableIdent): Promise<RestateTableResult> {
  const started = Date.now();
  const { pool } = deps;
  const result: RestateTableResult = { table: cfg.name, status: 'noop', restatedWindows: 0, windows: [], skippedWindows: 0, skipped: [], snapshotId: null, markFrom: null, markTo: null, durationMs: 0 };
  const done = () => ({ ...result, durationMs: Date.now() - started });
  const from = derivedFromConfig(deps.settings, cfg);
  const table = await loadTable(pool, deps.io, id);
  const wm = await readWatermark(pool, id);
  const fromWm = await readWatermark(pool, tableIdent(deps.settings, from.cfg.name));
  // Nothing of the rollup or of its input is in Iceberg yet: nothing can be stale.
  if (!table || !wm || !fromWm) return done();
  const { id: restateId, attempt } = activityIdentity(cfg.name);
  // A retry of an attempt whose commit landed (its mark moved with it): report that commit, commit nothing more.
  const earlier = table.metadata.snapshots.find((s) => s.summary?.['coldtier.restate-id'] === restateId);
  if (earlier) {
    const n = Number(earlier.summary!['coldtier.restated-windows'] ?? 0);
    log('restatement already committed by an earlier attempt', { table: cfg.name, snapshotId: String(earlier['snapshot-id']) });
    return { ...done(), status: 'restated', restatedWindows: n, snapshotId: String(earlier['snapshot-id']), markTo: JSON.parse(earlier.summary!['coldtier.restate-mark'] ?? 'null') as string[] | null };
  }
  const examinedTo = fromWm.committedTo ?? fromWm.values;
  result.markTo = examinedTo;
  const mark = await readRestatementMark(pool, id);
  result.markFrom = mark?.mark ?? null;
  if (!mark || mark.sourceTable !== from.cfg.name) {
    await fencedTx(pool, guard, (db) => startRestatementMark(db, id, from.cfg.name, examinedTo, mark));
    log('restatement mark started', { table: cfg.name, derivedFrom: from.cfg.name, mark: examinedTo });
    result.status = 'started';
    return done();
  }
  if (sameKey(mark.mark, examinedTo)) return done();

  const rollup = await describeRollup(live.ch, cfg, id);
  const fromColumns = await describeSource(live.ch, from.cfg.name, from.cfg.source);
  if (!fromColumns.some((c) => c.name === from.timeColumn)) {
    throw new ConfigError(`table ${cfg.name}: derivedFrom.timeColumn ${from.timeColumn} is not a column of ${from.cfg.source} (the source of ${from.cfg.name}); fix derivedFrom in the table registry`);
  }
  const key = watermarkKey(from.cfg, fromColumns);
  const range = rangeWhere(key, mark.mark, examinedTo);
  const windowOf = `toDateTime64(toStartOfInterval(${quote(from.timeColumn)}, toIntervalSecond({width:UInt32}), 'UTC'), 6, 'UTC')`;
  const rows = await live.ch.json<{ ws: string }>(
    `SELECT DISTINCT toString(toUnixTimestamp64Micro(${windowOf})) AS ws FROM ${qualified(live.ch, from.cfg.source).sql}
     WHERE ${range.sql} AND ${windowOf} <= {offloaded:${rollup.windowType}}`,
    { ...range.params, width: rollup.widthSeconds, offloaded: (wm.committedTo ?? wm.values)[0]! },
  );
  const inWindows = (r: Rollup, ws: bigint[]) => {
    const set = windowSet(r, ws, 'candidates');
    return { sql: `${windowMicros(r)} IN ${set.sql}`, params: set.params };
  };
  const candidates = rows.map((r) => BigInt(r.ws)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Only windows whose values changed are restated (a late row the offload already saw changes nothing).
  const differing = candidates.length
    ? (await differingWindows(deps, live, rollup, await filesHolding(deps, table, rollup, candidates), inWindows(rollup, candidates))).differing
    : [];
  const { complete: windows, incomplete } = await completeInSource(deps, live, rollup, from, examinedTo, differing);
  if (incomplete.length) {
    Object.assign(result, { skippedWindows: incomplete.length, skipped: incomplete.slice(0, LISTED).map(isoOfMicros) });
    warn('rollup windows not restated: ClickHouse no longer holds all their rows (TTL?); Iceberg keeps them as they were', { table: cfg.name, derivedFrom: from.cfg.name, windows: result.skipped });
  }
  if (!windows.length) {
    // No window in Iceberg changed; late rows of windows not offloaded yet are taken complete by the regular offload.
    const moved = await fencedTx(pool, guard, (db) => advanceRestatementMark(db, id, mark.mark, examinedTo));
    if (!moved) throw new Error(`restatement of ${cfg.name}: its mark moved while this attempt ran; the retry starts from the new mark`);
    return done();
  }

  live.beat({ table: cfg.name, stage: 'restating', windows: windows.length });
  const committed = await rewriteWindows(deps, live, guard, rollup, table, windows, {
    summary: {
      'coldtier.restate-id': restateId,
      'coldtier.restate-reason': `late rows of ${from.cfg.name}`,
      'coldtier.restated-windows': String(windows.length),
      'coldtier.restate-mark': JSON.stringify(examinedTo),
      'coldtier.source': cfg.source,
    },
    beforeSwap: (tx) => advanceRestatementMark(tx.db, id, mark.mark, examinedTo, { snapshotId: tx.prepared.snapshotId.toString(), windows: windows.length }),
  });
  if (!committed) throw new Error(`restatement of ${cfg.name}: its mark moved while this attempt ran; nothing was committed, the retry starts from the new mark`);
  metrics.restated(cfg.name, windows.length);
  Object.assign(result, { status: 'restated', restatedWindows: windows.length, windows: windows.slice(0, LISTED).map(isoOfMicros), snapshotId: committed.prepared.snapshotId.toString() });
  log('rollup windows restated', { table: cfg.name, windows: windows.length, snapshotId: result.snapshotId, mark: examinedTo });
  await deps.hooks?.afterCommit?.({ table: cfg.name, attempt, batch: 0 });
  return done();
}
