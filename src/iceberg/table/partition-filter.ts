// Manifest pruning by exact partition tuples: whether a manifest's partition
// summaries (per field: contains_null, lower and upper bound) allow any of a
// set of partitions. Compaction uses it to open only the manifests that can
// hold the files it replaces.

import type { DataFile } from '../spec/manifest';
import { partitionType } from '../spec/manifest';
import type { ManifestFile } from '../spec/manifest-list';
import type { Schema } from '../spec/schema';
import type { TableMetadata } from '../spec/table-metadata';
import { compareValues, fromBinary } from '../spec/values';

/**
 * A predicate over manifests: true when the manifest may hold a file of one of
 * `partitions` (each a DataFile's spec_id and partition tuple). Anything the
 * summaries cannot rule out (no summaries, an unknown spec) is kept.
 */
export function manifestMayHoldPartitions(meta: TableMetadata, schema: Schema, partitions: Array<Pick<DataFile, 'spec_id' | 'partition'>>): (mf: ManifestFile) => boolean {
  return (mf) => {
    const spec = meta['partition-specs'].find((s) => s['spec-id'] === mf.partition_spec_id);
    if (!spec || !mf.partitions) return true;
    const types = partitionType(spec, schema);
    const summaries = mf.partitions;
    return partitions.some((p) => p.spec_id === mf.partition_spec_id && types.every(({ field, type }, i) => {
      const s = summaries[i];
      if (!s) return true;
      const v = p.partition[field.name] ?? null;
      if (v === null) return s.contains_null;
      if (typeof v === 'number' && Number.isNaN(v)) return s.contains_nan !== false;
      if (!s.lower_bound || !s.upper_bound) return false; // only nulls (or NaN) in this field
      return compareValues(v, fromBinary(type, s.lower_bound)) >= 0 && compareValues(v, fromBinary(type, s.upper_bound)) <= 0;
    }));
  };
}
