// Compaction through ClickHouse: ClickHouse reads each group's small data files (exactly the ones the manifests name),
// sorts them by the table's sort order and encodes one zstd Parquet file; the Iceberg library adopts it (field ids in
// the footer, metrics from it, as the offload's ClickHouse encoder does). The rows never become Arrow in this
// process: a group costs the worker its output's bytes. Groups run concurrently within a bounded budget.

import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../clickhouse/client';
import { compactGroupParquet, countGroup, defaultSortOrder, type CompactGroup } from '../../clickhouse/compact-export';
import type { IcebergAccess } from '../../clickhouse/federation';
import { currentSchema, dataFileName, defaultSpec, DataSchemaMismatchError, joinUri, partitionDir, tableProperty, writeAdoptedFile, type DataFile, type FileIO, type RewriteGroup, type RewritePlan, type RewriteResult, type TableMetadata } from '../../iceberg';
import { ConfigError } from '../../config/errors';
import { boundedMap } from '../bounded';

export interface ClickHouseRewriteOptions {
  /** The table's name in the registry (for messages). */
  table: string;
  access: IcebergAccess;
  /** Groups rewritten at once (registry: writeConcurrency). @default 1 */
  concurrency?: number;
  /** Input bytes of the groups in flight together (one group above it still runs, alone). @default 256 MiB */
  budgetBytes?: number;
  onGroupWritten?: (p: { index: number; groups: number; group: RewriteGroup; added: DataFile[] }) => void | Promise<void>;
}

export const COMPACT_CONCURRENCY = 1;
export const COMPACT_BUDGET_BYTES = 256 * 1024 * 1024;

/** NaN counts per float/double field of a group, summed from its files' metrics; undefined if any file lacks one. */
function manifestNans(meta: TableMetadata, files: DataFile[]): Record<number, number> | undefined {
  const floats = currentSchema(meta).fields.filter((f) => f.type === 'float' || f.type === 'double').map((f) => f.id);
  const out: Record<number, number> = {};
  for (const id of floats) {
    let n = 0;
    for (const f of files) {
      const c = f.nan_value_counts?.[id];
      // A file written before the column existed holds no NaN of it (its value counts don't name the column either).
      if (c === undefined && f.value_counts?.[id] === undefined && f.null_value_counts?.[id] === undefined) continue;
      if (c === undefined) return undefined;
      n += Number(c);
    }
    out[id] = n;
  }
  return out;
}

/**
 * Rewrites every group of `plan` through ClickHouse into one new data file per group (a group is at most the target
 * size of small files, see planRewrite). Nothing is committed. On failure, the files written so far are deleted.
 */
export async function rewriteWithClickHouse(ch: ClickHouse, io: FileIO, meta: TableMetadata, plan: RewritePlan, o: ClickHouseRewriteOptions): Promise<RewriteResult> {
  const schema = currentSchema(meta);
  const order = defaultSortOrder(meta);
  const operationId = randomUUID();
  const floatDictionary = tableProperty(meta, 'coldtier.write.parquet.float-dictionary') === 'true';
  const added: DataFile[] = [];
  let done = 0;
  try {
    await boundedMap(plan.groups, async (group, i) => {
      const g: CompactGroup = { table: o.table, meta, locations: group.files.map((f) => f.file_path), access: o.access, floatDictionary };
      const read = async () => ({ nans: manifestNans(meta, group.files) ?? (await countGroup(ch, g)).nans, parquet: await compactGroupParquet(ch, g) });
      const { nans, parquet } = await read().catch((err: unknown) => {
        if (err instanceof ConfigError) throw err;
        throw new Error(`compaction of ${o.table} through ClickHouse: ClickHouse could not read, sort or encode the group's ${group.files.length} data files (${(err as Error)?.message ?? String(err)}). ClickHouse must reach the warehouse itself: for s3:// the S3 endpoint and keys of the settings (S3_ENDPOINT, AWS_ACCESS_KEY_ID), for file:// the same path below its user_files_path; or set encoder: arrow for the table in the registry to compact in the worker`, { cause: err });
      });
      const values = defaultSpec(meta).fields.map((pf) => group.partition[pf.name] ?? null);
      const uri = joinUri(partitionDir(meta, schema, values), dataFileName(operationId, i + 1));
      const file = await writeAdoptedFile(io, meta, parquet, {
        uri, schema, partition: group.partition, sortOrderId: order?.['order-id'] ?? 0, nanCounts: nans,
        nanFields: Object.keys(nans).map(Number).filter((id) => nans[id]! > 0),
      }).catch((err: unknown) => {
        if (!(err instanceof DataSchemaMismatchError)) throw err;
        throw new DataSchemaMismatchError(err.column, `${err.message.replace(/^.*? at column \S+: /, '')}; ClickHouse's Parquet for table ${o.table} cannot be adopted as is: set encoder: arrow for it in the table registry`);
      });
      added.push(file);
      // Every input row comes out once: a file whose rows disagree with its manifest entry is never rewritten.
      if (file.record_count !== group.rows) throw new Error(`compaction of ${o.table} through ClickHouse: the group's files (partition ${JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}) hold ${group.rows} rows by their manifest entries but ClickHouse wrote ${file.record_count}; nothing was committed`);
      await o.onGroupWritten?.({ index: done++, groups: plan.groups.length, group, added: [file] });
    }, { limit: o.concurrency ?? COMPACT_CONCURRENCY, cost: (g) => g.bytes, budget: o.budgetBytes ?? COMPACT_BUDGET_BYTES });
  } catch (err) {
    await Promise.all(added.map((f) => io.delete(f.file_path).catch(() => undefined)));
    throw err;
  }
  return { added, removed: plan.groups.flatMap((g) => g.files) };
}
