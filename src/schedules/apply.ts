import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Settings } from '../config/settings';
import { canonical, differences } from './canonical';
import { desiredSchedules, SCHEDULE_NAMES, type ScheduleIds, type ScheduleName } from './definitions';
import { ensureSearchAttributes } from './search-attributes';

export interface ScheduleChange {
  name: ScheduleName;
  scheduleId: string;
  /** created | updated in place | recreated (the memo of a schedule cannot be updated) | unchanged */
  outcome: 'created' | 'updated' | 'recreated' | 'unchanged';
  /** Which parts differed (for updated/recreated). */
  changed: string[];
}

export interface ApplyResult {
  /** Search attributes this run added to the namespace. */
  searchAttributesAdded: string[];
  schedules: ScheduleChange[];
  /** True when the server already matched: nothing was written. */
  unchanged: boolean;
}

/**
 * Makes the namespace hold exactly the desired two schedules (and coldtier's search attributes). Idempotent: a
 * second run compares canonical forms and writes nothing. A paused schedule stays paused, with its note.
 */
export async function applySchedules(client: Client, settings: Settings, ids: ScheduleIds): Promise<ApplyResult> {
  const { added } = await ensureSearchAttributes(client.connection.operatorService, settings.temporal.namespace);
  const desired = desiredSchedules(settings, ids);
  const schedules: ScheduleChange[] = [];
  for (const name of SCHEDULE_NAMES) schedules.push(await applyOne(client, name, desired[name]));
  return { searchAttributesAdded: added, schedules, unchanged: added.length === 0 && schedules.every((s) => s.outcome === 'unchanged') };
}

async function applyOne(client: Client, name: ScheduleName, want: ScheduleOptions, attempt = 1): Promise<ScheduleChange> {
  const handle = client.schedule.getHandle(want.scheduleId);
  const base = { name, scheduleId: want.scheduleId };
  let current;
  try {
    current = await handle.describe();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    try {
      await client.schedule.create(want);
      return { ...base, outcome: 'created', changed: [] };
    } catch (e) {
      // Another `apply` created it between our describe and create: compare against theirs.
      if (e instanceof ScheduleAlreadyRunning && attempt === 1) return applyOne(client, name, want, 2);
      throw e;
    }
  }
  const changed: string[] = differences(canonical(want), canonical(current));
  // An active schedule without a note (created before coldtier set one, or by hand) gets the description as its note;
  // a paused schedule keeps its pause reason.
  if (!current.state.paused && !current.state.note && want.state?.note) changed.push('note');
  if (!changed.length) return { ...base, outcome: 'unchanged', changed };
  const note = current.state.note || want.state?.note;
  const state = { paused: current.state.paused, ...(note ? { note } : {}) };
  if (changed.includes('memo')) {
    // Temporal has no way to update a schedule's memo: delete and create it again, keeping its paused state.
    await handle.delete();
    await client.schedule.create({ ...want, state });
    return { ...base, outcome: 'recreated', changed };
  }
  await handle.update(() => ({ spec: want.spec, action: want.action, ...(want.policies ? { policies: want.policies } : {}), state }));
  return { ...base, outcome: 'updated', changed };
}

export function formatApply(r: ApplyResult, namespace: string): string {
  const lines = [
    r.searchAttributesAdded.length
      ? `search attributes: added ${r.searchAttributesAdded.join(', ')} to namespace ${namespace}`
      : `search attributes: ColdtierTables, ColdtierStatus already in namespace ${namespace}`,
    ...r.schedules.map((s) => `${s.scheduleId}: ${s.outcome}${s.changed.length ? ` (${s.changed.join(', ')})` : ''}`),
  ];
  if (r.unchanged) lines.push('nothing changed: both schedules already match');
  return lines.join('\n');
}
