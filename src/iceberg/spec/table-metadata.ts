// Table metadata (format v2) in its spec JSON shape. Keys are the spec's own
// kebab-case names, so metadata written by Java/PyIceberg round-trips without
// dropping fields this writer does not model (statistics, extra refs, ...).

import { randomUUID } from 'node:crypto';
import { IcebergArgumentError } from '../errors';
import { PARTITION_FIELD_ID_START, type PartitionField, type PartitionSpec, type SortOrder } from './partition-spec';
import { NAME_MAPPING_PROPERTY, nameMappingFor } from './name-mapping';
import { maxFieldId, type NestedField, type Schema } from './schema';
import type { MetadataLogEntry, Snapshot, SnapshotLogEntry, SnapshotRef } from './snapshot';
import { parseTransform, transformResultType } from './transforms';

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: Schema[];
  'default-spec-id': number;
  'partition-specs': PartitionSpec[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': SortOrder[];
  properties: Record<string, string>;
  /** Absent when the table has no snapshot (serialized as -1 like Iceberg Java). */
  'current-snapshot-id'?: bigint;
  refs: Record<string, SnapshotRef>;
  snapshots: Snapshot[];
  'snapshot-log': SnapshotLogEntry[];
  'metadata-log': MetadataLogEntry[];
  /** Fields from other writers (statistics, partition-statistics, ...) are kept as read. */
  [extra: string]: unknown;
}

export interface PartitionFieldInput {
  sourceColumn: string;
  transform: 'identity' | 'day' | 'hour' | 'month' | 'year' | `bucket[${number}]` | `truncate[${number}]`;
  /** @default `<column>` for identity, `<column>_<transform>` otherwise (`_bucket`, `_trunc` as Iceberg Java names them) */
  name?: string;
}

export interface SortFieldInput {
  sourceColumn: string;
  /** @default 'asc' (nulls first for asc, nulls last for desc, Iceberg Java's defaults) */
  direction?: 'asc' | 'desc';
}

/** Table properties this writer reads, with their Iceberg defaults (and coldtier's own, `coldtier.*`). */
export const TABLE_PROPERTY_DEFAULTS = {
  'write.target-file-size-bytes': String(128 * 1024 * 1024),
  'write.parquet.compression-codec': 'zstd',
  'write.metadata.previous-versions-max': '100',
  'write.metadata.delete-after-commit.enabled': 'false',
  'commit.manifest-merge.enabled': 'true',
  'commit.manifest.min-count-to-merge': '100',
  'commit.manifest.target-size-bytes': String(8 * 1024 * 1024),
  /**
   * "true": uuid columns get lower/upper bounds in manifests and min/max statistics in Parquet. Off by default because
   * Iceberg Java (through 1.10/1.12) compares UUIDs as signed longs and so skips files and row groups that hold the
   * UUID a filter asks for (apache/iceberg#14216), and ClickHouse's manifest pruning loses such rows too (ClickHouse
   * #118366). A missing bound only costs reading more files. See docs/interop.md.
   */
  'coldtier.write.uuid-bounds': 'false',
  /**
   * "true": float/double columns may be dictionary-encoded. Off by default because Iceberg Java's dictionary row-group
   * filter compares floats with Float.compare, where -0.0 ≠ 0.0, so `x = 0.0` drops row groups whose dictionary holds
   * only -0.0 (and `x = -0.0` those with only 0.0). See docs/interop.md.
   */
  'coldtier.write.parquet.float-dictionary': 'false',
  /**
   * "true": float/double column chunks holding NaN keep their Parquet min/max statistics (which leave NaN out, as the
   * Parquet spec says). Off by default because pyarrow's row-group filter (so PyIceberg's scans) takes those min/max
   * as covering every value and skips the NaN rows of `IsNaN(x)`. The manifest's bounds and NaN counts are written
   * either way, and ClickHouse-encoded files follow this too. See docs/interop.md.
   */
  'coldtier.write.parquet.nan-float-statistics': 'false',
} as const;

function topLevelField(schema: Schema, column: string, what: string): NestedField {
  const f = schema.fields.find((x) => x.name === column);
  if (!f) throw new IcebergArgumentError(`${what} source column ${JSON.stringify(column)} is not in the schema (${schema.fields.map((x) => x.name).join(', ')})`);
  return f;
}

function defaultPartitionName(input: PartitionFieldInput): string {
  const t = parseTransform(input.transform);
  if (t.kind === 'identity') return input.sourceColumn;
  if (t.kind === 'bucket') return `${input.sourceColumn}_bucket`;
  if (t.kind === 'truncate') return `${input.sourceColumn}_trunc`;
  return `${input.sourceColumn}_${t.kind}`;
}

export function buildPartitionSpec(schema: Schema, inputs: PartitionFieldInput[], specId = 0, firstFieldId = PARTITION_FIELD_ID_START): PartitionSpec {
  const fields: PartitionField[] = [];
  const names = new Set<string>();
  inputs.forEach((input, i) => {
    const source = topLevelField(schema, input.sourceColumn, 'partition');
    const t = parseTransform(input.transform);
    if (!transformResultType(t, source.type)) {
      throw new IcebergArgumentError(`partition transform ${input.transform} cannot be applied to ${input.sourceColumn} of type ${JSON.stringify(source.type)}`);
    }
    const name = input.name ?? defaultPartitionName(input);
    // A partition name equal to another column's name would make readers resolve the wrong column.
    if (names.has(name) || (t.kind !== 'identity' && schema.fields.some((f) => f.name === name))) {
      throw new IcebergArgumentError(`partition field name ${JSON.stringify(name)} collides with another partition field or column`);
    }
    names.add(name);
    fields.push({ name, transform: input.transform, 'source-id': source.id, 'field-id': firstFieldId + i });
  });
  return { 'spec-id': specId, fields };
}

export function buildSortOrder(schema: Schema, inputs: SortFieldInput[], orderId = 1): SortOrder {
  return {
    'order-id': orderId,
    fields: inputs.map((input) => {
      const direction = input.direction ?? 'asc';
      return {
        transform: 'identity',
        'source-id': topLevelField(schema, input.sourceColumn, 'sort').id,
        direction,
        'null-order': direction === 'asc' ? 'nulls-first' : 'nulls-last',
      };
    }),
  };
}

/**
 * Iceberg Java's own per-column settings that keep other writers (Spark's rewrite_data_files, say) from writing uuid
 * bounds and Parquet statistics either, unless the table opts in to them (coldtier.write.uuid-bounds): a file Spark
 * writes with them is misread by Spark itself (apache/iceberg#14216). Keyed by column name, for top-level columns.
 */
function otherWriterUuidProperties(schema: Schema, properties: Record<string, string>): Record<string, string> {
  if (properties['coldtier.write.uuid-bounds'] === 'true') return {};
  const out: Record<string, string> = {};
  for (const f of schema.fields.filter((x) => x.type === 'uuid')) {
    out[`write.metadata.metrics.column.${f.name}`] = 'counts';
    out[`write.parquet.stats-enabled.column.${f.name}`] = 'false';
  }
  return out;
}

/** Metadata for a new, empty table (no snapshot). Write it with serializeTableMetadata as `00000-<uuid>.metadata.json`. */
export function newTableMetadata(args: {
  location: string;
  schema: Schema;
  partitionBy?: PartitionFieldInput[];
  sortBy?: SortFieldInput[];
  properties?: Record<string, string>;
}): TableMetadata {
  const schema: Schema = { ...args.schema, 'schema-id': 0 };
  const spec = buildPartitionSpec(schema, args.partitionBy ?? []);
  const sortOrders: SortOrder[] = [{ 'order-id': 0, fields: [] }];
  if (args.sortBy?.length) sortOrders.push(buildSortOrder(schema, args.sortBy, 1));
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location: args.location.replace(/\/+$/, ''),
    'last-sequence-number': 0,
    'last-updated-ms': Date.now(),
    'last-column-id': maxFieldId(schema.fields),
    'current-schema-id': 0,
    schemas: [schema],
    'default-spec-id': 0,
    'partition-specs': [spec],
    // Java records 999 (one below the first id) for an unpartitioned table.
    'last-partition-id': spec.fields.reduce((a, f) => Math.max(a, f['field-id']), PARTITION_FIELD_ID_START - 1),
    'default-sort-order-id': args.sortBy?.length ? 1 : 0,
    'sort-orders': sortOrders,
    // The name mapping lets readers resolve files without field ids (e.g. added by other tools) by column name.
    properties: { 'write.parquet.compression-codec': 'zstd', [NAME_MAPPING_PROPERTY]: JSON.stringify(nameMappingFor(schema)), ...otherWriterUuidProperties(schema, args.properties ?? {}), ...(args.properties ?? {}) },
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  };
}

export function currentSnapshot(m: TableMetadata): Snapshot | undefined {
  const id = m.refs.main?.['snapshot-id'] ?? m['current-snapshot-id'];
  return id === undefined ? undefined : m.snapshots.find((s) => s['snapshot-id'] === id);
}

/** The current snapshot and its ancestors, newest first (stops where expired snapshots leave a gap). */
export function* ancestry(m: TableMetadata, from: Snapshot | undefined = currentSnapshot(m)): Generator<Snapshot> {
  const byId = new Map(m.snapshots.map((s) => [s['snapshot-id'], s]));
  const seen = new Set<bigint>();
  for (let s = from; s && !seen.has(s['snapshot-id']); ) {
    seen.add(s['snapshot-id']);
    yield s;
    const parent = s['parent-snapshot-id'];
    s = parent === undefined ? undefined : byId.get(parent);
  }
}

/** Walks the current ancestry (newest first) and returns the first snapshot matching `pred`. */
export function findSnapshot(m: TableMetadata, pred: (s: Snapshot) => boolean): Snapshot | undefined {
  for (const s of ancestry(m)) if (pred(s)) return s;
  return undefined;
}

export function currentSchema(m: TableMetadata): Schema {
  const s = m.schemas.find((x) => x['schema-id'] === m['current-schema-id']);
  if (!s) throw new IcebergArgumentError(`table ${m.location} has no schema with current-schema-id ${m['current-schema-id']}`);
  return s;
}

export function defaultSpec(m: TableMetadata): PartitionSpec {
  const s = m['partition-specs'].find((x) => x['spec-id'] === m['default-spec-id']);
  if (!s) throw new IcebergArgumentError(`table ${m.location} has no partition spec with default-spec-id ${m['default-spec-id']}`);
  return s;
}

export function tableProperty(m: TableMetadata, key: keyof typeof TABLE_PROPERTY_DEFAULTS): string {
  return m.properties[key] ?? TABLE_PROPERTY_DEFAULTS[key];
}
