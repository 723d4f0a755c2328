import { refreshViews } from '../clickhouse/federated-views';
import { log, warn } from './context';
import type { ActivityDeps } from './deps';
import type { RefreshViewsInput, RefreshViewsResult } from './types';

/**
 * Re-pins the federated views that exist (`coldtier federate --apply` creates them; tables without one are left
 * alone) to the boundary and metadata file committed now. Idempotent: a retry finds them current.
 */
export async function refreshFederatedViews(deps: ActivityDeps, input: RefreshViewsInput): Promise<RefreshViewsResult> {
  const views = await refreshViews(deps.settings, { ch: deps.ch, pool: deps.pool }, input.tables);
  const refreshed = views.filter((v) => v.status === 'refreshed').map((v) => v.view);
  const foreign = views.filter((v) => v.status === 'foreign').map((v) => v.view);
  if (refreshed.length) log(`federated views re-pinned: ${refreshed.join(', ')}`, { views: refreshed });
  if (foreign.length) warn(`views ${foreign.join(', ')} were not created by coldtier federate (no coldtier pin in their comment); left untouched`, { views: foreign });
  return { refreshed, current: views.filter((v) => v.status === 'current').length };
}
