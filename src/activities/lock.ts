import { withTableLock, type LockGuard, type LockPurpose } from '../db/table-lock';
import type { TableIdent } from '../db/watermarks';
import { activityIdentity, warn } from './context';
import type { ActivityDeps } from './deps';

/**
 * Runs `fn` holding the table's lock (src/db/table-lock.ts), as this activity attempt: a later attempt of the same
 * activity may take the lock over from this one once Temporal has given up on it.
 */
export function lockTable<T>(deps: ActivityDeps, id: TableIdent, fn: (guard: LockGuard) => Promise<T>, purpose: LockPurpose = 'offload'): Promise<T> {
  return withTableLock(deps.settings.databaseUrl, id, fn, {
    purpose,
    holder: activityIdentity(id.table),
    onTakeover: (e) => warn('took the table lock over from a timed-out earlier attempt', e),
    ...(deps.hooks?.periodicLockCheck === false ? { periodicCheck: false } : {}),
  });
}
