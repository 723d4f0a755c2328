// What an activity knows about the Temporal attempt running it. Every helper also works outside Temporal (the CLI's
// direct runs, tests), where there is nothing to heartbeat to and nothing to replay.
import { Context } from '@temporalio/activity';

function current(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * The activity's identity across its retries, `<workflowId>/<runId>/<activityId>`: commits record it in their snapshot
 * summary so a retry finds what an earlier attempt committed. Outside Temporal a fresh id, so nothing is replayed.
 */
export function activityIdentity(table: string): { id: string; attempt: number } {
  const ctx = current();
  if (!ctx) return { id: `direct/${table}/${Date.now()}`, attempt: 1 };
  const { workflowExecution: wf, activityId, attempt } = ctx.info;
  return { id: `${wf?.workflowId ?? 'standalone'}/${wf?.runId ?? '-'}/${activityId}`, attempt };
}

/** The workflow that runs this activity, or null outside Temporal. */
export function workflowId(): string | null {
  return current()?.info.workflowExecution?.workflowId ?? null;
}

/** Reports progress (and keeps the attempt alive); a no-op outside Temporal. */
export function heartbeat(details: unknown): void {
  current()?.heartbeat(details);
}

/** The details of the previous attempt's last heartbeat, if any. */
export function previousHeartbeat(): unknown {
  return current()?.info.heartbeatDetails;
}

/** Logs through the activity logger (with the workflow and activity ids attached); silent outside Temporal. */
export function log(message: string, meta: Record<string, unknown>): void {
  current()?.log.info(message, meta);
}

/** Logs a warning through the activity logger; silent outside Temporal. */
export function warn(message: string, meta: Record<string, unknown>): void {
  current()?.log.warn(message, meta);
}

/** Aborted when Temporal cancels this attempt (or its heartbeat times out); undefined outside Temporal. */
export function cancellationSignal(): AbortSignal | undefined {
  return current()?.cancellationSignal;
}
