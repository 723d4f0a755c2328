// Progress of one offload cycle for its heartbeats: batch N of M, rows done and rows pending, which
// `coldtier offload --wait` prints while it waits (src/cli/progress.ts). Counting the cycle's rows is one extra query;
// it runs beside the first batch, and the heartbeats carry the fields once it has answered.
import type { ClickHouse } from '../../clickhouse/client';
import { rangeWhere, type Bound, type WatermarkKey } from '../../clickhouse/range';

export interface ProgressFields {
  /** 1-based number of the batch in flight (or just committed). */
  batchNumber?: number;
  /** Batches this cycle takes in all (about; the last one may be smaller). */
  batches?: number;
  rowsDone?: number;
  rowsPending?: number;
}

export interface CycleProgress {
  /** Fields for a heartbeat at 0-based batch `batch`, with `rowsDone` rows committed by this cycle so far. */
  fields(batch: number, rowsDone: number): ProgressFields;
}

/** Starts counting the rows of (lo, cycleTo] in the background; progress is best effort and never fails the offload. */
export function cycleProgress(ch: ClickHouse, src: string, key: WatermarkKey, lo: string[] | null, cycleTo: Bound | null, batchRows: number): CycleProgress {
  let total: number | null = null;
  if (cycleTo) {
    const where = rangeWhere(key, lo, cycleTo.values);
    ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${src} WHERE ${where.sql}`, where.params)
      .then((rows) => void (total = Number(rows[0]?.n ?? 0)))
      .catch(() => undefined);
  }
  return {
    fields(batch, rowsDone) {
      if (total === null) return { batchNumber: batch + 1, rowsDone };
      return { batchNumber: batch + 1, batches: Math.max(1, Math.ceil(total / batchRows)), rowsDone, rowsPending: Math.max(0, total - rowsDone) };
    },
  };
}
