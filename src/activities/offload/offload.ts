import { describeSource, qualified } from '../../clickhouse/client';
import { icebergSchemaFromClickHouse } from '../../clickhouse/schema/from-clickhouse';
import { batchUpperBound, cycleUpperBound, maxKey, rangeWhere, watermarkKey, type Bound } from '../../clickhouse/range';
import { tableConfig, tableIdent } from '../../config/lookup';
import type { TableConfig } from '../../config/tables';
import type { LockGuard } from '../../db/table-lock';
import { lockTable } from '../lock';
import { readWatermark, type TableIdent } from '../../db/watermarks';
import { currentSnapshot } from '../../iceberg';
import { metrics } from '../../metrics/registry';
import { commitAppend } from '../commit';
import { activityIdentity, log, warn } from '../context';
import { cycleProgress } from './progress';
import { recordRowsLost } from '../../db/rows-lost';
import { lostRows, type LostRows } from '../ttl-guard';
import type { ActivityDeps } from '../deps';
import { runAttempt, type Attempt } from '../liveness';
import { ensureTable, sourceSchema } from '../tables';
import type { OffloadTableInput, OffloadTableResult } from '../types';
import { removeDeadAttemptFiles, reportingUploads } from './attempts';
import { batchRowsFor, chooseEncoder, writeBatch } from './batch';
import { fanOutPlan, sameKey } from './fan-out-plan';
import { boundWithoutWatermark, earlierCommits, offloadSummary, recordedWatermark, replayInto, SUMMARY, summaryNumber } from './replay';

/**
 * Offloads the new rows of one table: fixes the cycle's upper bound, then commits bounded batches, each one
 * Iceberg snapshot + watermark advance in one Postgres transaction. A retry first finds the snapshots its earlier
 * attempts committed (by offload id in the snapshot summary) and continues from there, so it never commits a range
 * twice and, when the earlier attempt finished, commits nothing new.
 */
export async function offloadTable(deps: ActivityDeps, input: OffloadTableInput): Promise<OffloadTableResult> {
  const cfg = tableConfig(deps.settings, input.table);
  const id = tableIdent(deps.settings, cfg.name);
  try {
    return await lockTable(deps, id, (guard) => runAttempt(deps, guard, (live) => offloadLocked(deps, live, cfg, id, guard, input)));
  } catch (err) {
    metrics.offloadFailed(cfg.name, err);
    throw err;
  }
}

async function offloadLocked(deps: ActivityDeps, live: Attempt, cfg: TableConfig, id: TableIdent, guard: LockGuard, input: OffloadTableInput): Promise<OffloadTableResult> {
  const started = Date.now();
  const { pool } = deps;
  // The attempt's ClickHouse and FileIO: a cancelled attempt, or one that lost its lock, aborts what it is waiting on.
  const ch = live.ch;
  // Data files of the batch in flight, in every heartbeat from before their upload starts until they are committed.
  const pending: string[] = [];
  let batch = 0;
  let lo: string[] | null = null;
  const io = reportingUploads(live.io, cfg.name, (uri) => {
    pending.push(uri);
    live.beat({ table: cfg.name, stage: 'uploading', batch, watermark: lo, pendingFiles: pending, ...progress.fields(batch, result.rows) });
  }, deps.hooks);
  const { id: offloadId, attempt } = activityIdentity(cfg.name);
  const src = qualified(ch, cfg.source).sql;

  const columns = await describeSource(ch, cfg.name, cfg.source);
  const key = watermarkKey(cfg, columns);
  let table = await ensureTable(deps, cfg, id, icebergSchemaFromClickHouse(cfg.name, columns).schema);
  const { schema, select, evolved, lowCardinality } = sourceSchema(cfg, columns, table.metadata);

  const result: OffloadTableResult = {
    table: cfg.name, status: 'noop', rows: 0, files: 0, bytes: 0, snapshotId: null, commits: 0,
    watermarkFrom: null, watermarkTo: null, replayed: false, durationMs: 0,
  };

  // Commits an earlier attempt of this very activity made (newest first).
  const mine = earlierCommits(table.metadata, offloadId);
  replayInto(result, mine);

  // Files a dead earlier attempt uploaded but never committed (it reported them in its heartbeat). Holding the table
  // lock proves that attempt is gone, so whatever it left unreferenced can go now instead of waiting for the sweep.
  result.cleanedFiles = await removeDeadAttemptFiles(io, table.metadata, cfg.name);

  const wm = await readWatermark(pool, id);
  let wmTs = wm?.ts ?? null;
  // Commits must start from the stored watermark (the compare in the commit transaction), but reading starts above
  // everything ever committed: a watermark moved backward by hand then re-reads nothing twice.
  let expected = wm?.values ?? null;
  // Committed ranges are checked against the snapshot summaries too, so even a hand edit of both watermark columns
  // (values and committed_to) cannot make a cycle read a committed range again.
  lo = wm ? await maxKey(ch, key, await maxKey(ch, key, expected, wm.committedTo), recordedWatermark(table.metadata)) : boundWithoutWatermark(cfg.name, table.metadata);
  result.watermarkFrom ??= expected;
  // Lost rows are kept in Postgres, so the audit still reports a loss after later offloads moved the watermark past it.
  const keepLost = (lost: LostRows) => recordRowsLost(pool, id, lost).catch((err: Error) => warn('could not record the lost rows in coldtier_rows_lost (the result still reports them; check DATABASE_URL and the Postgres server)', { table: cfg.name, reason: err.message }));
  // The TTL guard: rows ClickHouse deleted before they were offloaded are reported, not passed over in silence.
  const lost = await lostRows(ch, cfg, key, lo).catch((err: Error) => (log('TTL guard not run', { table: cfg.name, reason: err.message }), null));
  if (lost) {
    result.rowsLost = lost.message;
    log('rows lost to the ClickHouse TTL', { table: cfg.name, rowsLost: lost.message });
    await keepLost(lost);
  }
  const cycleTo: Bound | null = mine.length
    ? (JSON.parse(mine[0]!.summary![SUMMARY.cycleTo]!) as Bound)
    : await cycleUpperBound(ch, src, key, lo, { bufferSeconds: cfg.lateDataBufferSeconds, windowSeconds: cfg.closedWindowSeconds });

  const batchRows = batchRowsFor(cfg, chooseEncoder(cfg, table.metadata, schema).encoder);
  if (input.allowFanOut && !mine.length && cycleTo && cfg.fanOutBatches > 0) {
    const plan = await fanOutPlan(ch, src, key, cfg, batchRows, expected, lo, cycleTo);
    if (plan) return { ...result, status: 'fan-out', fanOut: plan, durationMs: Date.now() - started };
  }

  const progress = cycleProgress(ch, src, key, lo, cycleTo, batchRows);
  // The next batch's bound, asked for while this batch is written and committed (it depends only on this batch's
  // upper bound, which the next batch starts from whether this one commits rows or finds none).
  // A prefetch that failed is simply asked again, when its batch comes.
  let next: { from: string[]; hi: Promise<Bound> } | undefined;
  while (cycleTo && !sameKey(lo, cycleTo.values)) {
    live.throwIfStopped();
    const from = lo;
    const prefetched = next && from !== null && sameKey(from, next.from) ? next.hi : undefined;
    const hi = await (prefetched?.catch(() => batchUpperBound(ch, src, key, from, cycleTo, batchRows)) ?? batchUpperBound(ch, src, key, from, cycleTo, batchRows));
    if (sameKey(hi.values, cycleTo.values)) next = undefined;
    else {
      const ahead = batchUpperBound(ch, src, key, hi.values, cycleTo, batchRows);
      ahead.catch(() => undefined); // awaited by the next batch, or abandoned with the attempt
      next = { from: hi.values, hi: ahead };
    }
    const where = rangeWhere(key, lo, hi.values);
    await deps.hooks?.faultPoint?.('reading', cfg.name, { ch });
    const { files, rows, encoder, reason } = await writeBatch(ch, io, { cfg, src, select, where, meta: table.metadata, lowCardinality, ...(evolved ? { schema: evolved } : {}) });
    if (!result.encoder) {
      result.encoder = encoder;
      if (reason) result.encoderReason = reason;
      log('offload encoder', { table: cfg.name, encoder, ...(reason ? { reason } : {}) });
    }
    if (rows === 0) {
      // Only possible if rows vanished (TTL) between the bound and the read: say so and keep it, then move on.
      const lost = { from: lo ?? [], to: hi.values, message: `rows lost in ${cfg.name}: the rows of ${cfg.source} with (${key.columns.join(', ')}) above (${(lo ?? []).join(', ')}) up to (${hi.values.join(', ')}) were there when the batch was bounded but gone when it was read (ClickHouse's TTL?); they cannot be offloaded or repaired from ClickHouse` };
      result.rowsLost = [result.rowsLost, lost.message].filter(Boolean).join('; ');
      warn(lost.message, { table: cfg.name });
      await keepLost(lost);
      lo = hi.values;
      continue;
    }
    live.beat({ table: cfg.name, stage: 'uploaded', batch, watermark: lo, pendingFiles: pending, ...progress.fields(batch, result.rows) });
    await deps.hooks?.faultPoint?.('before-commit', cfg.name);
    live.throwIfStopped();
    const committed = await commitAppend(pool, io, table, {
      id,
      files,
      guard,
      ...(evolved ? { schema: evolved } : {}),
      summary: offloadSummary({ offloadId, from: lo, to: hi.values, cycleTo, source: cfg.source }),
      watermark: { columns: key.columns, from: expected, to: hi.values, ts: new Date(Number(BigInt(hi.tsMicros) / 1000n)), offloadId, rows },
    });
    table = committed.table;
    lo = hi.values;
    wmTs = new Date(Number(BigInt(hi.tsMicros) / 1000n));
    metrics.committed(cfg.name, rows, files.reduce((a, f) => a + Number(f.file_size_in_bytes), 0));
    expected = hi.values;
    result.status = 'committed';
    result.rows += rows;
    result.files += files.length;
    result.bytes += files.reduce((a, f) => a + Number(f.file_size_in_bytes), 0);
    result.snapshotId = committed.prepared.snapshotId.toString();
    result.commits++;
    result.watermarkTo = hi.values;
    pending.length = 0;
    live.beat({ table: cfg.name, stage: 'committed', batch, watermark: hi.values, rows: result.rows, ...progress.fields(batch, result.rows) });
    log('offload batch committed', { table: cfg.name, batch, rows, files: files.length, snapshotId: result.snapshotId, watermark: hi.values });
    await deps.hooks?.faultPoint?.('after-commit', cfg.name);
    await deps.hooks?.afterCommit?.({ table: cfg.name, attempt, batch });
    batch++;
  }
  result.watermarkTo ??= lo;
  result.durationMs = Date.now() - started;
  metrics.offloaded({
    table: cfg.name,
    seconds: result.durationMs / 1000,
    watermarkTs: wmTs,
    holdbackSeconds: cfg.lateDataBufferSeconds + 2 * cfg.closedWindowSeconds,
    snapshots: table.metadata.snapshots?.length ?? 0,
    files: summaryNumber(currentSnapshot(table.metadata), 'total-data-files'),
  });
  return result;
}

