import { ensureWarehouseAccess } from '../../clickhouse/data-files';
import { compactionUnsupported } from '../../clickhouse/compact-export';
import { lockTable } from '../lock';
import { casCommit, executeRewrite, planRewrite, prepareReplace } from '../../iceberg';
import { deleteOnFailure, fenced } from '../commit';
import { activityIdentity, log } from '../context';
import { runAttempt } from '../liveness';
import type { ActivityDeps } from '../deps';
import { resolveTable } from '../tables';
import type { CompactTableInput, CompactTableResult } from '../types';
import { rewriteWithClickHouse } from './clickhouse-compact';
import { totals } from './common';

/**
 * Binpacks the small files of each partition into target-size files and commits an Iceberg `replace` snapshot, like
 * Spark's rewrite_data_files. The replace validates that every file it removes is still live, and is built on the
 * latest metadata at commit time, so an append committed meanwhile is kept. If a removed file vanished (another
 * compaction), the commit fails, the new files are deleted, and the retry plans again.
 */
export async function compactTable(deps: ActivityDeps, input: CompactTableInput): Promise<CompactTableResult> {
  const started = Date.now();
  const { cfg, id, table } = await resolveTable(deps, input.table);
  const before = totals(table);
  const result: CompactTableResult = {
    table: input.table, status: 'no-table', filesBefore: before.files, filesAfter: before.files, bytesBefore: before.bytes, bytesAfter: before.bytes,
    groups: 0, filesRewritten: 0, filesAdded: 0, snapshotId: null, durationMs: 0,
  };
  if (!table) return { ...result, durationMs: Date.now() - started };
  return lockTable(deps, id, (guard) => runAttempt(deps, guard, async (live) => {
    const plan = await planRewrite(deps.io, table.metadata, { targetFileSizeBytes: input.targetFileSizeMb * 1024 * 1024, minInputFiles: input.minInputFiles });
    result.groups = plan.groups.length;
    result.filesRewritten = plan.inputFiles;
    result.filesAdded = plan.expectedOutputFiles;
    // ClickHouse reads, sorts and encodes each group where it can write the table exactly; otherwise the worker does.
    const unsupported = cfg.encoder === 'arrow' ? 'encoder: arrow in the table registry' : compactionUnsupported(table.metadata, plan.groups.flatMap((g) => g.files));
    if (plan.groups.length) {
      result.encoder = unsupported ? 'arrow' : 'clickhouse';
      if (unsupported) result.encoderReason = unsupported;
      log('compaction encoder', { table: input.table, encoder: result.encoder, ...(unsupported ? { reason: unsupported } : {}) });
    }
    if (!plan.groups.length || input.dryRun) {
      result.status = plan.groups.length ? 'dry-run' : 'nothing-to-do';
      if (input.dryRun) result.filesAfter = before.files - plan.inputFiles + plan.expectedOutputFiles;
      return { ...result, durationMs: Date.now() - started };
    }
    const onGroupWritten = ({ index, groups }: { index: number; groups: number }) => live.beat({ table: input.table, stage: 'compact', group: index + 1, groups });
    // The attempt's ClickHouse and FileIO: a cancelled compaction stops its queries and uploads.
    const rewrite = unsupported
      ? await executeRewrite(live.io, table.metadata, plan, { onGroupWritten })
      : await rewriteWithClickHouse(live.ch, live.io, table.metadata, plan, { table: input.table, access: await ensureWarehouseAccess(live.ch, deps.settings), concurrency: cfg.writeConcurrency, onGroupWritten });
    await deleteOnFailure(deps.io, rewrite.added, async () => {
      await deps.hooks?.beforeCompactCommit?.(input.table);
      await deps.hooks?.faultPoint?.('compact-before-commit', input.table);
      const done = await casCommit(deps.pool, deps.io, id, table, {
        prepare: (base) => prepareReplace(deps.io, base, { ...rewrite, startingSnapshotId: plan.startingSnapshotId }, { summary: { 'coldtier.maintenance-id': activityIdentity(input.table).id } }),
        beforeSwap: fenced(guard),
      });
      const after = totals(done!.table);
      Object.assign(result, { status: 'compacted', filesAfter: after.files, bytesAfter: after.bytes, filesAdded: rewrite.added.length, snapshotId: done!.prepared.snapshotId.toString() });
    });
    return { ...result, durationMs: Date.now() - started };
  }), 'maintenance');
}
