import { ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { MaintenanceWorkflowInput } from '../activities/types';
import type { Settings } from '../config/settings';

/** The two schedules coldtier owns. */
export type ScheduleName = 'offload' | 'maintenance';
export const SCHEDULE_NAMES: readonly ScheduleName[] = ['offload', 'maintenance'];

/** @default 'coldtier': schedule ids `coldtier-offload` and `coldtier-maintenance` */
export const DEFAULT_PREFIX = 'coldtier';

export type ScheduleIds = Record<ScheduleName, string>;

/** `<prefix>-offload`, `<prefix>-maintenance`. Tests use a unique prefix so their schedules never collide. */
export function scheduleIds(prefix = DEFAULT_PREFIX): ScheduleIds {
  return { offload: `${prefix}-offload`, maintenance: `${prefix}-maintenance` };
}

/** The daily maintenance parameters, spelled out so the Web UI shows them in the schedule's input. */
export const MAINTENANCE_INPUT: Required<Omit<MaintenanceWorkflowInput, 'tables' | 'auditWindowEnd' | 'heartbeatTimeoutSeconds'>> = {
  stages: ['compact', 'rewrite-manifests', 'expire', 'orphans', 'audit'],
  targetFileSizeMb: 128,
  minInputFiles: 5,
  snapshotMaxAgeHours: 168,
  snapshotRetainLast: 3,
  orphanMinAgeHours: 72,
  auditWindowHours: 24,
  auditBufferHours: 2,
  dryRun: false,
};

/**
 * Catch-up windows: after an outage of the Temporal server (or a paused schedule), a missed action still runs if it
 * is at most this late. A missed offload needs no catch-up (the next one takes every row since the watermark), so
 * only a tick missed by a short blip runs; a missed maintenance still runs until 08:00 UTC, not in business hours.
 */
export const CATCHUP = { offload: '10 minutes', maintenance: '6 hours' } as const;

export const DESCRIPTIONS: Record<ScheduleName, string> = {
  offload:
    'Every 15 minutes (UTC): offloadWorkflow copies the new rows of every configured table from ClickHouse into Iceberg (bronze → silver → gold), one retryable activity per table. Overlap SKIP: never two offloads at once; a missed tick needs no catch-up.',
  maintenance:
    'Daily at 02:00 UTC: maintenanceWorkflow compacts small files, expires old snapshots, removes orphan files and audits ClickHouse against Iceberg row counts for the previous UTC day (00:00 → 24:00: the window ends 2 hours before the action time, for late data). Overlap SKIP. `coldtier schedules backfill` replays missed days.',
};

/** The desired state of both schedules for these settings; `schedules apply` makes the server match it. */
export function desiredSchedules(settings: Settings, ids: ScheduleIds): Record<ScheduleName, ScheduleOptions> {
  const { taskQueue } = settings.temporal;
  const target = `Iceberg ${settings.catalog.namespace}.* in catalog ${settings.catalog.name}`;
  return {
    offload: {
      scheduleId: ids.offload,
      spec: { calendars: [{ minute: { start: 0, end: 59, step: 15 }, hour: '*', comment: 'every 15 minutes' }], timezone: 'UTC' },
      action: {
        type: 'startWorkflow',
        workflowType: 'offloadWorkflow',
        // The server appends the scheduled time: coldtier-offload-2026-01-01T00:15:00Z.
        workflowId: ids.offload,
        taskQueue,
        args: [{}],
        staticSummary: `scheduled offload of all ${settings.tables.length} tables (${ids.offload})`,
        staticDetails: `ClickHouse → ${target}; bronze → silver → gold. The result lists rows, files, snapshot and watermark per table.`,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP.offload, pauseOnFailure: false },
      memo: { description: DESCRIPTIONS.offload, managedBy: 'coldtier schedules apply' },
      // The note is what the Web UI shows on the schedule ("Notes"); pause and resume replace it with their reason.
      state: { note: DESCRIPTIONS.offload },
    },
    maintenance: {
      scheduleId: ids.maintenance,
      spec: { calendars: [{ hour: 2, minute: 0, comment: 'daily at 02:00 UTC' }], timezone: 'UTC' },
      action: {
        type: 'startWorkflow',
        workflowType: 'maintenanceWorkflow',
        workflowId: ids.maintenance,
        taskQueue,
        // auditWindowEnd stays unset: the workflow takes the schedule's action time − auditBufferHours, so a backfilled
        // day audits its own previous calendar day.
        args: [MAINTENANCE_INPUT],
        staticSummary: `daily maintenance of all ${settings.tables.length} tables (${ids.maintenance})`,
        staticDetails: `compact → expire → orphans → audit on ${target}.`,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP.maintenance, pauseOnFailure: false },
      memo: { description: DESCRIPTIONS.maintenance, managedBy: 'coldtier schedules apply' },
      state: { note: DESCRIPTIONS.maintenance },
    },
  };
}
