// Progress of a workflow the CLI waits on (`offload --wait`, `maintain --wait`): one line per table whenever its
// activity heartbeats something new, and a warning when no worker polls the task queue. Lines go to stderr so that
// stdout holds only the result (and stays valid JSON with --json).
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Settings } from '../config/settings';
import { num, timestamp } from './format';

/** What activities put in their heartbeats (see src/activities/offload/progress.ts and the maintenance stages); every field optional. */
export interface HeartbeatProgress {
  table?: string;
  stage?: string;
  /** 0-based batch index (older heartbeats), or batchNumber: 1-based. */
  batch?: number;
  batchNumber?: number;
  batches?: number;
  rowsDone?: number;
  rowsPending?: number;
  group?: number;
  groups?: number;
  deleted?: number;
}

/** Pollers seen by the server within this window count as a live worker (they long-poll for about a minute). */
const POLLER_FRESH_MS = 90_000;

/** "bronze_x  committed  batch 3 of 10  1,500,000 rows done, 3,500,000 pending  [######--------------] 30%". */
export function progressLine(activity: string, p: HeartbeatProgress, tty: boolean): string {
  const parts = [p.table ?? '?', p.stage ?? activity];
  let fraction: number | null = null;
  const batch = p.batchNumber ?? (p.batch === undefined ? undefined : p.batch + 1);
  if (batch !== undefined) parts.push(`batch ${num(batch)}${p.batches !== undefined ? ` of ${num(p.batches)}` : ''}`);
  if (p.group !== undefined) parts.push(`group ${num(p.group)}${p.groups !== undefined ? ` of ${num(p.groups)}` : ''}`);
  if (p.rowsDone !== undefined) parts.push(`${num(p.rowsDone)} rows done${p.rowsPending !== undefined ? `, ${num(p.rowsPending)} pending` : ''}`);
  if (p.deleted !== undefined) parts.push(`${num(p.deleted)} files deleted`);
  if (p.rowsDone !== undefined && p.rowsPending !== undefined && p.rowsDone + p.rowsPending > 0) fraction = p.rowsDone / (p.rowsDone + p.rowsPending);
  else if (p.group !== undefined && p.groups) fraction = p.group / p.groups;
  if (tty && fraction !== null) {
    const filled = Math.round(fraction * 20);
    parts.push(`[${'#'.repeat(filled)}${'-'.repeat(20 - filled)}] ${Math.floor(fraction * 100)}%`);
  }
  return parts.join('  ');
}

const seconds = (t: { seconds?: unknown } | null | undefined) => (t?.seconds === undefined || t.seconds === null ? 0 : Number(String(t.seconds)));

/** When a poller last asked the task queue for work (ms since epoch), over workflow and activity pollers; 0 when none. */
export async function lastPollMs(client: Client, settings: Settings): Promise<number> {
  let last = 0;
  // TaskQueueType 1 = workflow, 2 = activity (temporal.api.enums.v1.TaskQueueType).
  for (const taskQueueType of [1, 2]) {
    const r = await client.workflowService.describeTaskQueue({ namespace: settings.temporal.namespace, taskQueue: { name: settings.temporal.taskQueue }, taskQueueType });
    for (const p of r.pollers ?? []) last = Math.max(last, seconds(p.lastAccessTime) * 1000);
  }
  return last;
}

export interface ProgressWatch {
  stop(): Promise<void>;
}

/**
 * Polls the workflow's pending activities every `intervalMs` and prints a line per table whose heartbeat changed.
 * Failures to describe are ignored: progress is a courtesy, the result is what counts.
 */
export function watchProgress(client: Client, settings: Settings, handle: WorkflowHandle, intervalMs = 2000): ProgressWatch {
  const tty = Boolean(process.stderr.isTTY);
  const seen = new Map<string, string>();
  let warned = false;
  let stopped = false;
  const started = Date.now();
  const tick = async () => {
    const d = await handle.describe();
    for (const a of d.raw.pendingActivities ?? []) {
      const payload = a.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      const p = defaultPayloadConverter.fromPayload<HeartbeatProgress>(payload);
      if (!p || typeof p !== 'object') continue;
      const line = progressLine(a.activityType?.name ?? 'activity', p, tty);
      const key = `${a.activityId ?? ''}`;
      if (seen.get(key) !== line && !stopped) process.stderr.write(`${line}\n`);
      seen.set(key, line);
    }
    // Only once the run had a moment to be picked up: a freshly started worker polls within a second.
    if (!warned && Date.now() - started >= intervalMs) {
      const last = await lastPollMs(client, settings);
      if (Date.now() - last > POLLER_FRESH_MS && !stopped) {
        warned = true;
        const when = last ? `since ${timestamp(new Date(last))}` : 'recently';
        process.stderr.write(`coldtier: warning: no worker has polled task queue ${settings.temporal.taskQueue} ${when}; the run waits until one does (start one with \`coldtier worker\`, same TEMPORAL_ADDRESS/TEMPORAL_TASK_QUEUE)\n`);
      }
    }
  };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(tick).catch(() => undefined);
  }, intervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
