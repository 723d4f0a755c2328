import { lockTable } from '../lock';
import { casCommit, planExpire, prepareMetadataUpdate, type ExpirePlan } from '../../iceberg';
import { fenced } from '../commit';
import { runAttempt } from '../liveness';
import type { ActivityDeps } from '../deps';
import { resolveTable } from '../tables';
import type { ExpireTableInput, ExpireTableResult } from '../types';
import { totals } from './common';

/**
 * Removes snapshots older than the age, always keeping the newest `retainLast` and every ref's snapshot (Spark's
 * expire_snapshots), then deletes the manifests, manifest lists and data files that only expired snapshots used.
 * Files are deleted only after the commit; a crash in between leaves orphans for the orphan sweep, never a dangling reference.
 */
export async function expireTable(deps: ActivityDeps, input: ExpireTableInput): Promise<ExpireTableResult> {
  const started = Date.now();
  const { id, table } = await resolveTable(deps, input.table);
  const before = totals(table).snapshots;
  const result: ExpireTableResult = { table: input.table, snapshotsBefore: before, snapshotsAfter: before, snapshotsExpired: 0, filesDeleted: 0, durationMs: 0 };
  if (!table) return result;
  const olderThanMs = (input.nowMs ?? Date.now()) - input.snapshotMaxAgeHours * 3_600_000;
  return lockTable(deps, id, (guard) => runAttempt(deps, guard, async (live) => {
    let plan: ExpirePlan = await planExpire(deps.io, table.metadata, { olderThanMs, retainLast: input.retainLast });
    result.snapshotsExpired = plan.expireIds.length;
    if (!plan.expireIds.length || input.dryRun) {
      result.snapshotsAfter = before - plan.expireIds.length;
      result.filesDeleted = input.dryRun ? plan.filesToDelete.length : 0;
      return { ...result, durationMs: Date.now() - started };
    }
    const done = await casCommit(deps.pool, deps.io, id, table, {
      // Planned again on whatever metadata the commit builds on, so a snapshot appended meanwhile is kept.
      prepare: async (base) => {
        if (base.metadataUri !== table.metadataUri) plan = await planExpire(deps.io, base.metadata, { olderThanMs, retainLast: input.retainLast });
        return prepareMetadataUpdate(deps.io, base, plan.metadata);
      },
      beforeSwap: fenced(guard),
    });
    await deps.hooks?.faultPoint?.('expire-after-commit', input.table);
    for (const [i, uri] of plan.filesToDelete.entries()) {
      await deps.io.delete(uri);
      if (i % 100 === 0) live.beat({ table: input.table, stage: 'expire', deleted: i });
    }
    Object.assign(result, { snapshotsExpired: plan.expireIds.length, snapshotsAfter: totals(done!.table).snapshots, filesDeleted: plan.filesToDelete.length });
    return { ...result, durationMs: Date.now() - started };
  }), 'maintenance');
}
