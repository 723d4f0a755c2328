import { describeSource, qualified } from '../../clickhouse/client';
import { rangeWhere, watermarkKey } from '../../clickhouse/range';
import { tableConfig, tableIdent } from '../../config/lookup';
import { lockTable } from '../lock';
import { findSnapshot, loadTable } from '../../iceberg';
import { metrics } from '../../metrics/registry';
import { commitAppend } from '../commit';
import { activityIdentity } from '../context';
import type { ActivityDeps } from '../deps';
import { runAttempt, type Attempt } from '../liveness';
import { WatermarkMovedError } from '../errors';
import { resolveTable, sourceSchema } from '../tables';
import type { CommitRangesInput, OffloadTableResult, WriteRangeInput, WriteRangeResult } from '../types';
import { removeDeadAttemptFiles, reportingUploads } from './attempts';
import { writeBatch } from './batch';
import { decodeDataFiles, encodeDataFiles } from './datafile-codec';
import { offloadSummary, SUMMARY } from './replay';

/**
 * One range of a fanned-out catch-up: reads (lo, hi] and writes its data files, committing nothing. Many of these
 * run at once on different workers; commitRanges then commits all their files in one snapshot.
 */
export function writeRange(deps: ActivityDeps, input: WriteRangeInput): Promise<WriteRangeResult> {
  return runAttempt(deps, undefined, (live) => writeRangeAttempt(deps, live, input));
}

async function writeRangeAttempt(deps: ActivityDeps, live: Attempt, input: WriteRangeInput): Promise<WriteRangeResult> {
  const { cfg, table } = await resolveTable(deps, input.table);
  if (!table) throw new Error(`fan-out write of ${cfg.name}: the Iceberg table is missing; the offload creates it first`);
  const ch = live.ch;
  const columns = await describeSource(ch, cfg.name, cfg.source);
  const key = watermarkKey(cfg, columns);
  const { select, evolved, lowCardinality } = sourceSchema(cfg, columns, table.metadata);
  const where = rangeWhere(key, input.lo, input.hi.values);
  // A dead earlier attempt's files: Temporal never accepts a timed-out attempt's result, so nothing can commit them.
  // (One still running may upload more after this: those wait for the orphan sweep.)
  await removeDeadAttemptFiles(deps.io, table.metadata, cfg.name);
  const pending: string[] = [];
  const io = reportingUploads(live.io, cfg.name, (uri) => {
    pending.push(uri);
    live.beat({ table: cfg.name, stage: 'uploading', pendingFiles: pending });
  });
  const { files, rows } = await writeBatch(ch, io, { cfg, src: qualified(ch, cfg.source).sql, select, where, meta: table.metadata, lowCardinality, ...(evolved ? { schema: evolved } : {}) });
  live.beat({ table: cfg.name, stage: 'written', rows, pendingFiles: files.map((f) => f.file_path) });
  return { files: encodeDataFiles(files), rows, bytes: files.reduce((a, f) => a + f.file_size_in_bytes, 0) };
}

/** Commits every range's files in one snapshot and moves the watermark over the whole catch-up, exactly once. */
export async function commitRanges(deps: ActivityDeps, input: CommitRangesInput): Promise<OffloadTableResult> {
  const started = Date.now();
  const cfg = tableConfig(deps.settings, input.table);
  const id = tableIdent(deps.settings, cfg.name);
  const { id: offloadId } = activityIdentity(cfg.name);
  const first = input.plan.ranges[0]!;
  const last = input.plan.ranges[input.plan.ranges.length - 1]!;
  const files = decodeDataFiles(input.parts.flatMap((p) => p.files));
  const rows = input.parts.reduce((a, p) => a + p.rows, 0);
  const bytes = input.parts.reduce((a, p) => a + p.bytes, 0);
  const result: OffloadTableResult = {
    table: cfg.name, status: 'committed', rows, files: files.length, bytes, snapshotId: null, commits: 1,
    watermarkFrom: input.plan.expected, watermarkTo: last.hi.values, replayed: false, durationMs: 0,
  };
  return lockTable(deps, id, (guard) => runAttempt(deps, guard, async (live) => {
    const table = await loadTable(deps.pool, deps.io, id);
    if (!table) throw new Error(`fan-out commit of ${cfg.name}: the Iceberg table is missing`);
    const earlier = findSnapshot(table.metadata, (s) => s.summary?.[SUMMARY.offloadId] === offloadId);
    if (earlier) return { ...result, snapshotId: earlier['snapshot-id'].toString(), replayed: true, durationMs: Date.now() - started };
    if (!files.length) return { ...result, status: 'noop', commits: 0, durationMs: Date.now() - started };
    // The ranges were written with the source's schema; if it gained columns, this commit adds them.
    const { evolved } = sourceSchema(cfg, await describeSource(live.ch, cfg.name, cfg.source), table.metadata);
    await deps.hooks?.faultPoint?.('commit-ranges-before-commit', cfg.name);
    live.throwIfStopped();
    try {
      const done = await commitAppend(deps.pool, deps.io, table, {
        id,
        files,
        guard,
        // The range writes' files: another attempt of this commit may have committed them, so never delete them here.
        ownsFiles: false,
        ...(evolved ? { schema: evolved } : {}),
        summary: {
          ...offloadSummary({ offloadId, from: first.lo, to: last.hi.values, cycleTo: last.hi, source: cfg.source }),
          'coldtier.fan-out-ranges': String(input.plan.ranges.length),
        },
        watermark: { columns: cfg.watermark, from: input.plan.expected, to: last.hi.values, ts: new Date(Number(BigInt(last.hi.tsMicros) / 1000n)), offloadId, rows },
      });
      metrics.committed(cfg.name, rows, bytes);
      return { ...result, snapshotId: done.prepared.snapshotId.toString(), durationMs: Date.now() - started };
    } catch (err) {
      // Another run offloaded this range first: nothing is lost, nothing doubled. Its files stay for the orphan sweep
      // (if it was another attempt of this very commit, they are the committed ones).
      if (err instanceof WatermarkMovedError) return { ...result, status: 'noop', rows: 0, files: 0, bytes: 0, commits: 0, reason: err.message, durationMs: Date.now() - started };
      throw err;
    }
  }));
}
