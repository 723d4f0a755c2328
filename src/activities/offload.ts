import { Context, heartbeat } from '@temporalio/activity';
import type pg from 'pg';
import { describeSource, qualified, type ClickHouse } from '../clickhouse/client';
import type { Settings } from '../config/settings';
import { tableConfig } from '../config/lookup';
import { readWatermark, type TableIdent } from '../db/watermarks';
import { withTableLock, type LockGuard } from '../db/table-lock';
import { faultPoint } from './faults';
import { faultyUploads, removeDeadAttemptFiles, reportingUploads } from './attempts';
import type { TableConfig } from '../config/tables';
import { findSnapshot, icebergSchemaFromClickHouse, type FileIO, type Snapshot, type TableMetadata } from '../iceberg';
import { commitAppend } from './commit';
import { batchRowsFor, chooseEncoder, writeBatch } from './batch';
import { batchUpperBound, cycleUpperBound, maxKey, pendingRows, rangeWhere, watermarkKey, type Bound, type WatermarkKey } from './range';
import { createTableIfMissing } from './table-setup';
import { BadRequestError } from './window';
import { metrics } from '../metrics/registry';
import type { FanOutPlan, OffloadTableInput, OffloadTableResult } from './types';

export interface OffloadDeps {
  settings: Settings;
  pool: pg.Pool;
  ch: ClickHouse;
  io: FileIO;
  hooks?: TestHooks;
}

/** Fault-injection points for tests. Never set in production. */
export interface TestHooks {
  afterCommit?: (e: { table: string; attempt: number; batch: number }) => void | Promise<void>;
}

/** Snapshot summary keys that say what each snapshot holds (like Flink's max-committed-checkpoint-id). */
export const SUMMARY = {
  offloadId: 'coldtier.offload-id',
  watermarkFrom: 'coldtier.watermark-from',
  watermarkTo: 'coldtier.watermark-to',
  cycleTo: 'coldtier.cycle-to',
  source: 'coldtier.source',
} as const;

export function activityIdentity(table: string): { offloadId: string; attempt: number } {
  try {
    const info = Context.current().info;
    const wf = info.workflowExecution;
    return { offloadId: `${wf?.workflowId ?? 'standalone'}/${wf?.runId ?? '-'}/${info.activityId}`, attempt: info.attempt };
  } catch {
    // Called outside Temporal (CLI backfill, tests): a fresh id, nothing to replay.
    return { offloadId: `direct/${table}/${Date.now()}`, attempt: 1 };
  }
}

export function beat(details: unknown): void {
  try {
    heartbeat(details);
  } catch {
    // not inside an activity
  }
}

function log(message: string, meta: Record<string, unknown>): void {
  try {
    Context.current().log.info(message, meta);
  } catch {
    // not inside an activity
  }
}

const num = (s: Snapshot | undefined, key: string) => Number(s?.summary?.[key] ?? 0);

/**
 * Offloads the new rows of one table: fixes the cycle's upper bound, then commits bounded batches, each one
 * Iceberg snapshot + watermark advance in one Postgres transaction. A retry first finds the snapshots its earlier
 * attempts committed (by offload id in the snapshot summary) and continues from there, so it never commits a range
 * twice and, when the earlier attempt finished, commits nothing new.
 */
export async function offloadTable(deps: OffloadDeps, input: OffloadTableInput): Promise<OffloadTableResult> {
  const cfg = tableConfig(deps.settings, input.table);
  const id = { catalog: deps.settings.catalog.name, namespace: deps.settings.catalog.namespace, table: cfg.name };
  try {
    return await withTableLock(deps.settings.databaseUrl, id, (guard) => offloadLocked(deps, cfg, id, guard, input));
  } catch (err) {
    metrics.offloadFailed(cfg.name);
    throw err;
  }
}

async function offloadLocked(deps: OffloadDeps, cfg: TableConfig, id: TableIdent, guard: LockGuard, input: OffloadTableInput): Promise<OffloadTableResult> {
  const started = Date.now();
  const { settings, pool, ch } = deps;
  // Data files of the batch in flight, in every heartbeat from before their upload starts until they are committed.
  const pending: string[] = [];
  let batch = 0;
  let lo: string[] | null = null;
  const io = reportingUploads(faultyUploads(deps.io, cfg.name), (uri) => {
    pending.push(uri);
    beat({ table: cfg.name, stage: 'uploading', batch, watermark: lo, pendingFiles: pending });
  });
  const { offloadId, attempt } = activityIdentity(cfg.name);
  const src = qualified(ch, cfg.source).sql;

  const columns = await describeSource(ch, cfg.name, cfg.source);
  const key = watermarkKey(cfg, columns);
  const initial = icebergSchemaFromClickHouse(cfg.name, columns);
  let table = await createTableIfMissing(pool, io, settings.warehouse, id, cfg, initial.schema);
  const current = table.metadata.schemas.find((s) => s['schema-id'] === table.metadata['current-schema-id']);
  const { schema, select } = icebergSchemaFromClickHouse(cfg.name, columns, current ? { previous: current, lastColumnId: table.metadata['last-column-id'] } : {});
  const evolved = current && JSON.stringify(current.fields) !== JSON.stringify(schema.fields) ? schema : undefined;

  const result: OffloadTableResult = {
    table: cfg.name, status: 'noop', rows: 0, files: 0, bytes: 0, snapshotId: null, commits: 0,
    watermarkFrom: null, watermarkTo: null, replayed: false, durationMs: 0,
  };

  // Commits an earlier attempt of this very activity made (newest first).
  const mine: Snapshot[] = [];
  for (let s = findSnapshot(table.metadata, (x) => x.summary?.[SUMMARY.offloadId] === offloadId); s; ) {
    mine.push(s);
    const parent = s['parent-snapshot-id'];
    s = parent === undefined ? undefined : findSnapshot(table.metadata, (x) => x['snapshot-id'] === parent && x.summary?.[SUMMARY.offloadId] === offloadId);
  }
  for (const s of mine) {
    result.rows += num(s, 'added-records');
    result.files += num(s, 'added-data-files');
    result.bytes += num(s, 'added-files-size');
    result.commits++;
  }
  if (mine.length) {
    result.replayed = true;
    result.status = 'committed';
    result.snapshotId = mine[0]!['snapshot-id'].toString();
    result.watermarkFrom = JSON.parse(mine[mine.length - 1]!.summary![SUMMARY.watermarkFrom] ?? 'null');
    result.watermarkTo = JSON.parse(mine[0]!.summary![SUMMARY.watermarkTo] ?? 'null');
  }

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
  const cycleTo: Bound | null = mine.length
    ? (JSON.parse(mine[0]!.summary![SUMMARY.cycleTo]!) as Bound)
    : await cycleUpperBound(ch, src, key, lo, { bufferSeconds: cfg.lateDataBufferSeconds, windowSeconds: cfg.closedWindowSeconds });

  const batchRows = batchRowsFor(cfg, chooseEncoder(cfg, table.metadata, evolved ?? current ?? schema).encoder);
  if (input.allowFanOut && !mine.length && cycleTo && cfg.fanOutBatches > 0) {
    const plan = await fanOutPlan(ch, src, key, cfg, batchRows, expected, lo, cycleTo);
    if (plan) return { ...result, status: 'fan-out', fanOut: plan, durationMs: Date.now() - started };
  }

  while (cycleTo && !sameKey(lo, cycleTo.values)) {
    const hi = await batchUpperBound(ch, src, key, lo, cycleTo, batchRows);
    const where = rangeWhere(key, lo, hi.values);
    await faultPoint('reading', cfg.name);
    const { files, rows, encoder, reason } = await writeBatch(ch, io, { cfg, src, select, where, meta: table.metadata, ...(evolved ? { schema: evolved } : {}) });
    if (!result.encoder) {
      result.encoder = encoder;
      if (reason) result.encoderReason = reason;
      log('offload encoder', { table: cfg.name, encoder, ...(reason ? { reason } : {}) });
    }
    if (rows === 0) {
      // Only possible if rows vanished (TTL) between the bound and the read; nothing to commit, move on.
      lo = hi.values;
      continue;
    }
    beat({ table: cfg.name, stage: 'uploaded', batch, watermark: lo, pendingFiles: pending });
    await faultPoint('before-commit', cfg.name);
    const committed = await commitAppend(pool, io, table, {
      id,
      files,
      guard,
      ...(evolved ? { schema: evolved } : {}),
      summary: {
        [SUMMARY.offloadId]: offloadId,
        [SUMMARY.watermarkFrom]: JSON.stringify(lo),
        [SUMMARY.watermarkTo]: JSON.stringify(hi.values),
        [SUMMARY.cycleTo]: JSON.stringify(cycleTo),
        [SUMMARY.source]: cfg.source,
      },
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
    beat({ table: cfg.name, stage: 'committed', batch, watermark: hi.values, rows: result.rows });
    log('offload batch committed', { table: cfg.name, batch, rows, files: files.length, snapshotId: result.snapshotId, watermark: hi.values });
    await faultPoint('after-commit', cfg.name);
    await deps.hooks?.afterCommit?.({ table: cfg.name, attempt, batch });
    batch++;
  }
  result.watermarkTo ??= lo;
  result.durationMs = Date.now() - started;
  const head = table.metadata.snapshots?.find((x) => x['snapshot-id'] === table.metadata['current-snapshot-id']);
  metrics.offloaded({
    table: cfg.name,
    seconds: result.durationMs / 1000,
    watermarkTs: wmTs,
    holdbackSeconds: cfg.lateDataBufferSeconds + 2 * cfg.closedWindowSeconds,
    snapshots: table.metadata.snapshots?.length ?? 0,
    files: num(head, 'total-data-files'),
  });
  return result;
}

/** The highest key a retained snapshot says it holds: the newest offload commit's coldtier.watermark-to. */
function recordedWatermark(meta: TableMetadata): string[] | null {
  const newest = [...meta.snapshots].filter((s) => s.summary?.[SUMMARY.watermarkTo]).sort((a, b) => b['timestamp-ms'] - a['timestamp-ms'])[0];
  return newest ? (JSON.parse(newest.summary![SUMMARY.watermarkTo]!) as string[]) : null;
}

/**
 * No watermark row, yet the table may already hold offloaded rows: the row was deleted by hand (only commits create
 * it, together with the first snapshot). Reading from the beginning would add every row again, so read above the
 * highest key a snapshot recorded, and refuse when rows exist but no retained snapshot says which.
 */
function boundWithoutWatermark(table: string, meta: TableMetadata): string[] | null {
  const recorded = recordedWatermark(meta);
  if (recorded) return recorded;
  const head = meta.snapshots.find((s) => s['snapshot-id'] === meta['current-snapshot-id']);
  const rows = num(head, 'total-records');
  if (rows > 0) {
    throw new BadRequestError(
      `offload of ${table}: the Iceberg table already holds ${rows} rows but its watermark (coldtier_watermarks) is missing and no retained snapshot records the offloaded range; offloading from the beginning would add every row again. Restore the watermark row`,
    );
  }
  return null;
}


/**
 * Splits (lo, cycleTo] into batchRows-sized key ranges when there are more than fanOutBatches of them: pending rows
 * are counted first, so the common small cycle costs one count query.
 */
async function fanOutPlan(ch: ClickHouse, src: string, key: WatermarkKey, cfg: TableConfig, batchRows: number, expected: string[] | null, lo: string[] | null, cycleTo: Bound): Promise<FanOutPlan | null> {
  const { pending } = await pendingRows(ch, src, key, lo);
  if (pending <= cfg.fanOutBatches * batchRows) return null;
  const ranges: FanOutPlan['ranges'] = [];
  for (let from = lo; !sameKey(from, cycleTo.values); ) {
    const hi = await batchUpperBound(ch, src, key, from, cycleTo, batchRows);
    ranges.push({ lo: from, hi });
    from = hi.values;
  }
  return ranges.length > cfg.fanOutBatches ? { expected, ranges } : null;
}

function sameKey(a: string[] | null, b: string[]): boolean {
  return a !== null && a.length === b.length && a.every((v, i) => v === b[i]);
}

