// Groups rows by partition tuple without copying them: each group is a list
// of (batch, start, end) runs, later turned into zero-copy slices. Input
// ordered by the partition source (the usual ORDER BY) gives one run per
// partition; any other order is still correct, just more runs.

import type { Data, Table } from 'apache-arrow';
import { IcebergArgumentError } from '../errors';
import type { PartitionSpec } from '../spec/partition-spec';
import type { PrimitiveType, Schema } from '../spec/schema';
import { applyTransform, parseTransform, transformResultType, type Transform } from '../spec/transforms';
import { hex, type IcebergValue } from '../spec/values';
import { microsAsNumberReader, valueReader } from '../arrow/value-reader';

export interface PartitionGroup {
  /** Partition values in spec field order (internal representation). */
  values: Array<IcebergValue | null>;
  runs: Array<{ batch: number; start: number; end: number }>;
  rows: number;
}

interface BoundField {
  column: number;
  sourceType: PrimitiveType;
  transform: Transform;
  resultType: PrimitiveType;
}

const MICROS_PER_DAY = 86_400_000_000;
const MICROS_PER_HOUR = 3_600_000_000;

/**
 * Reads the partition value of each row of a chunk. Day/hour of timestamps use
 * float math on the raw words (exact within ±285 years of 1970), the hot path
 * for time-partitioned tables.
 */
function partitionReader(f: BoundField, data: Data): (i: number) => IcebergValue | null {
  const ts = f.sourceType === 'timestamp' || f.sourceType === 'timestamptz';
  if (ts && (f.transform.kind === 'day' || f.transform.kind === 'hour')) {
    const unit = f.transform.kind === 'day' ? MICROS_PER_DAY : MICROS_PER_HOUR;
    const read = microsAsNumberReader(data);
    return (i) => {
      const v = read(i);
      return v === null ? null : Math.floor(v / unit);
    };
  }
  const read = valueReader(data, f.sourceType);
  return (i) => applyTransform(f.transform, f.sourceType, read(i));
}

const keyPart = (v: IcebergValue | null): string => (v === null ? '\u0001null' : v instanceof Uint8Array ? `x${hex(v)}` : `${typeof v}:${String(v)}`);

export function bindPartitionSpec(spec: PartitionSpec, schema: Schema): BoundField[] {
  return spec.fields.map((pf) => {
    const column = schema.fields.findIndex((f) => f.id === pf['source-id']);
    const source = schema.fields[column];
    if (!source || typeof source.type !== 'string') {
      throw new IcebergArgumentError(`partition field ${pf.name}: source column ${pf['source-id']} is not a top-level primitive column of the current schema`);
    }
    const transform = parseTransform(pf.transform);
    const resultType = transformResultType(transform, source.type);
    if (!resultType) throw new IcebergArgumentError(`partition field ${pf.name}: ${pf.transform} cannot apply to ${source.type}`);
    return { column, sourceType: source.type, transform, resultType };
  });
}

export function groupByPartition(table: Table, spec: PartitionSpec, schema: Schema): PartitionGroup[] {
  if (spec.fields.length === 0 || spec.fields.every((f) => f.transform === 'void')) {
    const runs = table.batches.map((b, batch) => ({ batch, start: 0, end: b.numRows })).filter((r) => r.end > 0);
    return [{ values: spec.fields.map(() => null), runs, rows: table.numRows }];
  }
  const fields = bindPartitionSpec(spec, schema);
  const groups = new Map<string, PartitionGroup>();
  table.batches.forEach((batch, b) => {
    const readers = fields.map((f) => partitionReader(f, batch.data.children[f.column]!));
    let runKey: string | undefined;
    let runValues: Array<IcebergValue | null> = [];
    let runStart = 0;
    const close = (end: number): void => {
      if (runKey === undefined || end <= runStart) return;
      let g = groups.get(runKey);
      // Copy byte values: they are views into the Arrow buffers, which the DataFile must not pin.
      if (!g) groups.set(runKey, (g = { values: runValues.map((v) => (v instanceof Uint8Array ? v.slice() : v)), runs: [], rows: 0 }));
      const last = g.runs[g.runs.length - 1];
      if (last && last.batch === b && last.end === runStart) last.end = end;
      else g.runs.push({ batch: b, start: runStart, end });
      g.rows += end - runStart;
    };
    if (fields.length === 1) {
      // Common case (one field, e.g. day(ts)): compare raw transformed values, build a key only per run.
      const read = readers[0]!;
      let prev: IcebergValue | null | undefined;
      for (let i = 0; i < batch.numRows; i++) {
        const v = read(i);
        if (i > 0 && (v === prev || (v instanceof Uint8Array && prev instanceof Uint8Array && keyPart(v) === keyPart(prev)))) continue;
        const key = keyPart(v);
        if (key !== runKey) {
          close(i);
          runKey = key;
          runValues = [v];
          runStart = i;
        }
        prev = v;
      }
    } else {
      for (let i = 0; i < batch.numRows; i++) {
        const values = readers.map((read) => read(i));
        const key = values.map(keyPart).join('\u0000');
        if (key !== runKey) {
          close(i);
          runKey = key;
          runValues = values;
          runStart = i;
        }
      }
    }
    close(batch.numRows);
  });
  return [...groups.values()];
}
