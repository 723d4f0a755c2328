import { batchUpperBound, pendingRows, type Bound, type WatermarkKey } from '../../clickhouse/range';
import type { ClickHouse } from '../../clickhouse/client';
import type { TableConfig } from '../../config/tables';
import type { FanOutPlan } from '../types';

/**
 * Splits (lo, cycleTo] into batchRows-sized key ranges when there are more than fanOutBatches of them: pending rows
 * are counted first, so the common small cycle costs one count query.
 */
export async function fanOutPlan(ch: ClickHouse, src: string, key: WatermarkKey, cfg: TableConfig, batchRows: number, expected: string[] | null, lo: string[] | null, cycleTo: Bound): Promise<FanOutPlan | null> {
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

export function sameKey(a: string[] | null, b: string[]): boolean {
  return a !== null && a.length === b.length && a.every((v, i) => v === b[i]);
}
