import { describeSource, qualified } from '../../clickhouse/client';
import { rangeWhere, watermarkKey } from '../../clickhouse/range';
import { tableConfig, tableIdent } from '../../config/lookup';
import { withTableLock } from '../../db/table-lock';
import { findSnapshot, loadTable } from '../../iceberg';
import { metrics } from '../../metrics/registry';
import { commitAppend } from '../commit';
import { activityIdentity, heartbeat } from '../context';
import type { ActivityDeps } from '../deps';
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
export async function writeRange(deps: ActivityDeps, input: WriteRangeInput): Promise<WriteRangeResult> {
  const { cfg, table } = await resolveTable(deps, input.table);
  if (!table) throw new Error(`fan-out write of ${cfg.name}: the Iceberg table is missing; the offload creates it first`);
  const columns = await describeSource(deps.ch, cfg.name, cfg.source);
  const key = watermarkKey(cfg, columns);
  const { select, evolved } = sourceSchema(cfg, columns, table.metadata);
  const where = rangeWhere(key, input.lo, input.hi.values);
  // A dead earlier attempt's files: its result never reached the workflow, so nothing can commit them.
  await removeDeadAttemptFiles(deps.io, table.metadata, cfg.name);
  const pending: string[] = [];
  const io = reportingUploads(deps.io, cfg.name, (uri) => {
    pending.push(uri);
    heartbeat({ table: cfg.name, stage: 'uploading', pendingFiles: pending });
  });
  const { files, rows } = await writeBatch(deps.ch, io, { cfg, src: qualified(deps.ch, cfg.source).sql, select, where, meta: table.metadata, ...(evolved ? { schema: evolved } : {}) });
  heartbeat({ table: cfg.name, stage: 'written', rows, pendingFiles: files.map((f) => f.file_path) });
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
  return withTableLock(deps.settings.databaseUrl, id, async (guard) => {
    const table = await loadTable(deps.pool, deps.io, id);
    if (!table) throw new Error(`fan-out commit of ${cfg.name}: the Iceberg table is missing`);
    const earlier = findSnapshot(table.metadata, (s) => s.summary?.[SUMMARY.offloadId] === offloadId);
    if (earlier) return { ...result, snapshotId: earlier['snapshot-id'].toString(), replayed: true, durationMs: Date.now() - started };
    if (!files.length) return { ...result, status: 'noop', commits: 0, durationMs: Date.now() - started };
    // The ranges were written with the source's schema; if it gained columns, this commit adds them.
    const { evolved } = sourceSchema(cfg, await describeSource(deps.ch, cfg.name, cfg.source), table.metadata);
    try {
      const done = await commitAppend(deps.pool, deps.io, table, {
        id,
        files,
        guard,
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
      // Another run offloaded this range first: our files were discarded; nothing is lost, nothing doubled.
      if (err instanceof WatermarkMovedError) return { ...result, status: 'noop', rows: 0, files: 0, bytes: 0, commits: 0, reason: err.message, durationMs: Date.now() - started };
      throw err;
    }
  });
}
