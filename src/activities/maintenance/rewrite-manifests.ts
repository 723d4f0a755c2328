import { lockTable } from '../lock';
import { casCommit, currentSnapshot, planRewriteManifests, prepareRewriteManifests, readManifestList, type RewriteManifestsPlan } from '../../iceberg';
import { activityIdentity } from '../context';
import type { ActivityDeps } from '../deps';
import { resolveTable } from '../tables';
import type { RewriteManifestsTableInput, RewriteManifestsTableResult } from '../types';

/** Thrown out of the commit loop's prepare step when the head it builds on needs no rewrite (then nothing is committed). */
class NothingToRewrite extends Error {
  override readonly name = 'NothingToRewrite';
  constructor(readonly plan: RewriteManifestsPlan) {
    super('rewrite-manifests: nothing to do');
  }
}

/**
 * Rewrites the current snapshot's manifests into few target-size manifests ordered by partition (Spark's
 * rewrite_manifests), leaving history (deleted entries, delete-only manifests) to the older snapshots. It changes no
 * data file, so it is planned on whatever metadata the commit lands on: an append committed meanwhile is included.
 * Nothing to gain (the manifests are already as few as a rewrite would make, with no deleted entries): no commit.
 */
export async function rewriteManifestsTable(deps: ActivityDeps, input: RewriteManifestsTableInput): Promise<RewriteManifestsTableResult> {
  const started = Date.now();
  const { id, table } = await resolveTable(deps, input.table);
  const result: RewriteManifestsTableResult = { table: input.table, status: 'no-table', manifestsBefore: 0, deleteOnlyBefore: 0, manifestsAfter: 0, entries: 0, snapshotId: null, durationMs: 0 };
  const finish = (status: RewriteManifestsTableResult['status'], plan?: RewriteManifestsPlan, extra: Partial<RewriteManifestsTableResult> = {}) => {
    const counts = plan ? { manifestsBefore: plan.manifestsBefore, deleteOnlyBefore: plan.deleteOnlyBefore, manifestsAfter: status === 'nothing-to-do' ? plan.manifestsBefore : plan.manifestsAfter, entries: plan.entries } : {};
    return { ...result, ...counts, ...extra, status, durationMs: Date.now() - started };
  };
  const snapshot = table && currentSnapshot(table.metadata);
  if (!table || !snapshot) return finish('no-table');
  if (input.dryRun) {
    const plan = planRewriteManifests(table.metadata, await readManifestList(deps.io, snapshot));
    return finish(plan.worthwhile ? 'dry-run' : 'nothing-to-do', plan);
  }
  return lockTable(deps, id, async () => {
    let plan: RewriteManifestsPlan | undefined;
    try {
      const done = await casCommit(deps.pool, deps.io, id, table, {
        prepare: async (base) => {
          const r = await prepareRewriteManifests(deps.io, base, { summary: { 'coldtier.maintenance-id': activityIdentity(input.table).id } });
          if (!r?.prepared) throw new NothingToRewrite(r?.plan ?? planRewriteManifests(base.metadata, []));
          plan = r.plan;
          return r.prepared;
        },
      });
      return finish('rewritten', plan, { snapshotId: done!.prepared.snapshotId.toString() });
    } catch (err) {
      if (err instanceof NothingToRewrite) return finish('nothing-to-do', err.plan);
      throw err;
    }
  }, 'maintenance');
}
