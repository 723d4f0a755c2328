import { refreshView } from '../clickhouse/federated-views';
import { log, warn } from './context';
import type { ActivityDeps } from './deps';

/**
 * Re-pins the table's federated view (if `coldtier federate --apply` created one) to the boundary and metadata file
 * committed now. Called by the activity that committed, right after its commit, so a view follows every offload and
 * restatement without an activity of its own. Never fails the caller: a view not refreshed keeps its older pin, which
 * stays exact (README "Querying hot and cold together"). Returns `refreshed`, `current`, the failure, or undefined
 * when the table has no coldtier view.
 */
export async function refreshViewAfterCommit(deps: ActivityDeps, table: string): Promise<string | undefined> {
  try {
    const v = await refreshView(deps.settings, { ch: deps.ch, pool: deps.pool }, table);
    if (v.status === 'absent') return undefined;
    if (v.status === 'foreign') {
      warn(`view ${v.view} was not created by coldtier federate (no coldtier pin in its comment); left untouched`, { table, view: v.view });
      return undefined;
    }
    if (v.status === 'refreshed') log(`federated view ${v.view} re-pinned to the new commit`, { table, view: v.view });
    return v.status;
  } catch (err) {
    const reason = `not refreshed: ${(err as Error).message}; the view keeps its previous pin (still exact); run coldtier federate --apply`;
    warn(`federated view of ${table} ${reason}`, { table });
    return reason;
  }
}
