import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import { ScheduleCommandError } from './errors';
import { SCHEDULE_NAMES, type ScheduleIds, type ScheduleName } from './definitions';

/**
 * 'offload' | 'maintenance' | 'all' (where allowed), or a schedule id as `schedules list` and the Web UI show it
 * (`coldtier-offload`), to the schedules it means.
 */
export function resolveNames(arg: string, allowAll: boolean, ids?: ScheduleIds): ScheduleName[] {
  if (arg === 'all' && allowAll) return [...SCHEDULE_NAMES];
  if ((SCHEDULE_NAMES as readonly string[]).includes(arg)) return [arg as ScheduleName];
  const byId = ids ? SCHEDULE_NAMES.find((n) => ids[n] === arg) : undefined;
  if (byId) return [byId];
  const choices = [...SCHEDULE_NAMES, ...(ids ? SCHEDULE_NAMES.map((n) => ids[n]) : []), ...(allowAll ? ['all'] : [])];
  throw new ScheduleCommandError(undefined, `unknown schedule "${arg}": use ${choices.join(', ')}`);
}

export interface ScheduleRow {
  name: ScheduleName;
  scheduleId: string;
  exists: boolean;
  paused?: boolean;
  note?: string;
  spec?: string;
  overlap?: string;
  nextRun?: string;
  /** Workflow id of the newest run. */
  lastRun?: string;
  /** When the newest run was started (ISO). */
  lastRunAt?: string;
  running: string[];
  actionsTaken?: number;
  skippedOverlap?: number;
}

export async function describeSchedules(client: Client, ids: ScheduleIds): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for (const name of SCHEDULE_NAMES) {
    const scheduleId = ids[name];
    let d: ScheduleDescription;
    try {
      d = await client.schedule.getHandle(scheduleId).describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      rows.push({ name, scheduleId, exists: false, running: [] });
      continue;
    }
    const last = d.info.recentActions.at(-1);
    rows.push({
      name,
      scheduleId,
      exists: true,
      paused: d.state.paused,
      ...(d.state.note ? { note: d.state.note } : {}),
      spec: d.spec.calendars?.map((c) => c.comment).filter(Boolean).join('; ') || `${d.spec.intervals?.length ?? 0} intervals`,
      overlap: d.policies.overlap,
      ...(d.info.nextActionTimes[0] ? { nextRun: d.info.nextActionTimes[0].toISOString() } : {}),
      ...(last ? { lastRunAt: last.takenAt.toISOString() } : {}),
      ...(last ? { lastRun: last.action.workflow.workflowId } : {}),
      running: d.info.runningActions.map((a) => a.workflow.workflowId),
      actionsTaken: d.info.numActionsTaken,
      skippedOverlap: d.info.numActionsSkippedOverlap,
    });
  }
  return rows;
}

async function withHandle<T>(client: Client, scheduleId: string, fn: (h: ReturnType<Client['schedule']['getHandle']>) => Promise<T>): Promise<T> {
  try {
    return await fn(client.schedule.getHandle(scheduleId));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new ScheduleCommandError(scheduleId, `schedule ${scheduleId} does not exist in this namespace; run \`coldtier schedules apply\` first`, { cause: err });
    }
    throw err;
  }
}

export const pauseSchedule = (client: Client, scheduleId: string, note: string) => withHandle(client, scheduleId, (h) => h.pause(note));
export const resumeSchedule = (client: Client, scheduleId: string, note: string) => withHandle(client, scheduleId, (h) => h.unpause(note));
export const deleteSchedule = (client: Client, scheduleId: string) => withHandle(client, scheduleId, (h) => h.delete());

export interface TriggerResult {
  /** The schedule was paused: a trigger still starts a run (Temporal ignores the pause for it), and the CLI says so. */
  paused: boolean;
  /** The schedule's note (the pause reason, when paused). */
  note?: string;
  /** The run this trigger started, or null when the overlap policy skipped it (or it did not show in time). */
  workflowId: string | null;
  skipped: boolean;
  /** What was still running when the trigger was skipped. */
  running: string[];
}

/**
 * Takes the schedule's action now. Like `temporal schedule trigger`, the overlap policy defaults to SKIP: when a run
 * is still going, nothing starts (and the result says so) instead of two offloads racing.
 */
export async function triggerSchedule(client: Client, scheduleId: string, overlap: ScheduleOverlapPolicy = ScheduleOverlapPolicy.SKIP, waitMs = 10_000): Promise<TriggerResult> {
  return withHandle(client, scheduleId, async (h) => {
    const before = await h.describe();
    const state = { paused: before.state.paused, ...(before.state.note ? { note: before.state.note } : {}) };
    await h.trigger(overlap);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const d = await h.describe();
      if (d.info.numActionsTaken > before.info.numActionsTaken) {
        return { ...state, workflowId: d.info.recentActions.at(-1)?.action.workflow.workflowId ?? null, skipped: false, running: [] };
      }
      if (d.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap) {
        return { ...state, workflowId: null, skipped: true, running: d.info.runningActions.map((a) => a.workflow.workflowId) };
      }
      if (Date.now() > deadline) return { ...state, workflowId: null, skipped: false, running: [] };
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}

/**
 * Replays the schedule's actions for [from, to) as if that time passed now: for the maintenance schedule, one run
 * per missed 02:00 UTC, each auditing its own day (the action time is the run's TemporalScheduledStartTime).
 * Runs queue one after another (BUFFER_ALL) instead of being skipped by the SKIP policy.
 */
export async function backfillSchedule(client: Client, scheduleId: string, from: Date, to: Date): Promise<void> {
  if (!(from.getTime() < to.getTime())) throw new ScheduleCommandError(scheduleId, `backfill needs --from before --to (got ${from.toISOString()} .. ${to.toISOString()})`);
  // The server's range is inclusive at both ends; [from, to) is what `--to 2026-01-04T00:00:00Z` means to a person.
  await withHandle(client, scheduleId, (h) => h.backfill({ start: from, end: new Date(to.getTime() - 1), overlap: ScheduleOverlapPolicy.BUFFER_ALL }));
}

/** The 02:00 UTC action times a backfill of the maintenance schedule over [from, to) takes (for the CLI's message). */
export function dailyActionTimes(from: Date, to: Date, hourUtc = 2): Date[] {
  const out: Date[] = [];
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate(), hourUtc));
  if (d < from) d.setUTCDate(d.getUTCDate() + 1);
  for (; d < to; d.setUTCDate(d.getUTCDate() + 1)) out.push(new Date(d));
  return out;
}
