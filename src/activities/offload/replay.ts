// What the table itself says was offloaded: every offload commit records its range and its activity's identity in
// the snapshot summary (like Flink's max-committed-checkpoint-id), so a retry finds its earlier attempts' commits and
// a lost or hand-edited watermark cannot make a range be read twice.
import { currentSnapshot, findSnapshot, type Snapshot, type TableMetadata } from '../../iceberg';
import { BadRequestError } from '../errors';
import type { OffloadTableResult } from '../types';

/** Snapshot summary keys that say what each offload snapshot holds. */
export const SUMMARY = {
  offloadId: 'coldtier.offload-id',
  watermarkFrom: 'coldtier.watermark-from',
  watermarkTo: 'coldtier.watermark-to',
  cycleTo: 'coldtier.cycle-to',
  source: 'coldtier.source',
} as const;

/** The summary an offload commit records: whose it is and which key range (from, to] of which cycle it holds. */
export function offloadSummary(o: { offloadId: string; from: string[] | null; to: string[]; cycleTo: unknown; source: string }): Record<string, string> {
  return {
    [SUMMARY.offloadId]: o.offloadId,
    [SUMMARY.watermarkFrom]: JSON.stringify(o.from),
    [SUMMARY.watermarkTo]: JSON.stringify(o.to),
    [SUMMARY.cycleTo]: JSON.stringify(o.cycleTo),
    [SUMMARY.source]: o.source,
  };
}

export const summaryNumber = (s: Snapshot | undefined, key: string) => Number(s?.summary?.[key] ?? 0);

/** The commits an earlier attempt of this very activity made, newest first (a chain of parent links). */
export function earlierCommits(meta: TableMetadata, offloadId: string): Snapshot[] {
  const mine: Snapshot[] = [];
  for (let s = findSnapshot(meta, (x) => x.summary?.[SUMMARY.offloadId] === offloadId); s; ) {
    mine.push(s);
    const parent = s['parent-snapshot-id'];
    s = parent === undefined ? undefined : findSnapshot(meta, (x) => x['snapshot-id'] === parent && x.summary?.[SUMMARY.offloadId] === offloadId);
  }
  return mine;
}

/** Adds what the earlier commits (newest first) hold to `result`, marking it replayed. */
export function replayInto(result: OffloadTableResult, mine: Snapshot[]): void {
  if (!mine.length) return;
  for (const s of mine) {
    result.rows += summaryNumber(s, 'added-records');
    result.files += summaryNumber(s, 'added-data-files');
    result.bytes += summaryNumber(s, 'added-files-size');
    result.commits++;
  }
  result.replayed = true;
  result.status = 'committed';
  result.snapshotId = mine[0]!['snapshot-id'].toString();
  result.watermarkFrom = JSON.parse(mine[mine.length - 1]!.summary![SUMMARY.watermarkFrom] ?? 'null');
  result.watermarkTo = JSON.parse(mine[0]!.summary![SUMMARY.watermarkTo] ?? 'null');
}

/** The highest key a retained snapshot says it holds: the newest offload commit's coldtier.watermark-to. */
export function recordedWatermark(meta: TableMetadata): string[] | null {
  const newest = [...meta.snapshots].filter((s) => s.summary?.[SUMMARY.watermarkTo]).sort((a, b) => b['timestamp-ms'] - a['timestamp-ms'])[0];
  return newest ? (JSON.parse(newest.summary![SUMMARY.watermarkTo]!) as string[]) : null;
}

/**
 * No watermark row, yet the table may already hold offloaded rows: the row was deleted by hand (only commits create
 * it, together with the first snapshot). Reading from the beginning would add every row again, so read above the
 * highest key a snapshot recorded, and refuse when rows exist but no retained snapshot says which.
 */
export function boundWithoutWatermark(table: string, meta: TableMetadata): string[] | null {
  const recorded = recordedWatermark(meta);
  if (recorded) return recorded;
  const rows = summaryNumber(currentSnapshot(meta), 'total-records');
  if (rows > 0) {
    throw new BadRequestError(
      `offload of ${table}: the Iceberg table already holds ${rows} rows but its watermark (coldtier_watermarks) is missing and no retained snapshot records the offloaded range; offloading from the beginning would add every row again. Restore the watermark row`,
    );
  }
  return null;
}
