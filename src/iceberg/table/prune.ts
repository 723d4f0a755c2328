// File and manifest pruning for a time-range filter [from, to) on a timestamp
// column: a file is skipped only when its partition value or its column
// bounds prove that none of its rows can fall in the range. Anything unknown
// (no bounds, an unsupported transform) keeps the file.

import type { DataFile } from '../spec/manifest';
import type { FieldSummary, ManifestFile } from '../spec/manifest-list';
import type { PartitionField, PartitionSpec } from '../spec/partition-spec';
import { parseTransform } from '../spec/transforms';
import { fromBinary } from '../spec/values';

/** Half-open µs range. */
export interface MicrosRange {
  from: bigint;
  to: bigint;
}

const HOUR = 3_600_000_000n;
const DAY = 24n * HOUR;
const monthStart = (months: number) => BigInt(Date.UTC(1970 + Math.floor(months / 12), ((months % 12) + 12) % 12, 1)) * 1000n;

/** µs range covered by partition value `v` of a time transform; undefined when the transform tells nothing about time. */
function partitionRange(transform: string, v: number | bigint): MicrosRange | undefined {
  const t = parseTransform(transform);
  const n = Number(v);
  switch (t.kind) {
    case 'identity': return { from: BigInt(v), to: BigInt(v) + 1n };
    case 'hour': return { from: BigInt(n) * HOUR, to: BigInt(n + 1) * HOUR };
    case 'day': return { from: BigInt(n) * DAY, to: BigInt(n + 1) * DAY };
    case 'month': return { from: monthStart(n), to: monthStart(n + 1) };
    case 'year': return { from: monthStart(n * 12), to: monthStart((n + 1) * 12) };
    default: return undefined;
  }
}

const overlaps = (a: MicrosRange, b: MicrosRange) => a.from < b.to && a.to > b.from;

/** Partition fields of `spec` derived from column `fieldId` by a transform that maps to time ranges. */
export function timeFields(spec: PartitionSpec | undefined, fieldId: number): Array<{ field: PartitionField; index: number }> {
  if (!spec) return [];
  return spec.fields
    .map((field, index) => ({ field, index }))
    .filter(({ field }) => field['source-id'] === fieldId && ['identity', 'hour', 'day', 'month', 'year'].includes(field.transform));
}

/** Whether a manifest's partition summaries allow rows in `range`. */
export function manifestMayMatch(mf: ManifestFile, spec: PartitionSpec | undefined, fieldId: number, range: MicrosRange): boolean {
  for (const { field, index } of timeFields(spec, fieldId)) {
    const s: FieldSummary | undefined = mf.partitions?.[index];
    if (!s) continue;
    // Only nulls in this partition field: every row's timestamp is null, none can match.
    if (!s.lower_bound && !s.upper_bound) {
      if (s.contains_null && mf.added_files_count + mf.existing_files_count > 0) return false;
      continue;
    }
    if (!s.lower_bound || !s.upper_bound) continue;
    const type = field.transform === 'identity' ? 'timestamp' : field.transform === 'day' ? 'date' : 'int';
    const lo = partitionRange(field.transform, fromBinary(type, s.lower_bound) as number | bigint);
    const hi = partitionRange(field.transform, fromBinary(type, s.upper_bound) as number | bigint);
    if (lo && hi && !overlaps({ from: lo.from, to: hi.to }, range)) return false;
  }
  return true;
}

/** Whether a data file may hold rows in `range`, from its partition values, then its column bounds. */
export function fileMayMatch(f: DataFile, spec: PartitionSpec | undefined, fieldId: number, range: MicrosRange): boolean {
  for (const { field } of timeFields(spec, fieldId)) {
    const v = f.partition[field.name];
    if (v === undefined) continue;
    if (v === null) return false; // the source value is null in every row
    const r = partitionRange(field.transform, v as number | bigint);
    if (r && !overlaps(r, range)) return false;
  }
  const values = f.value_counts?.[fieldId];
  const nulls = f.null_value_counts?.[fieldId];
  if (values !== undefined && values > 0 && nulls === values) return false;
  const lo = f.lower_bounds?.[fieldId];
  const hi = f.upper_bounds?.[fieldId];
  if (lo?.byteLength === 8 && hi?.byteLength === 8) {
    const r = { from: fromBinary('timestamp', lo) as bigint, to: (fromBinary('timestamp', hi) as bigint) + 1n };
    if (!overlaps(r, range)) return false;
  }
  return true;
}
