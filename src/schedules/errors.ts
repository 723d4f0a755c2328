/**
 * Thrown by ensureSearchAttributes (worker start, `coldtier schedules apply`) when the namespace lacks coldtier's
 * search attributes and they cannot be added from here. The message names the commands that add them.
 */
export class SearchAttributesMissingError extends Error {
  override readonly name = 'SearchAttributesMissingError';
  constructor(
    readonly namespace: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown by the schedule commands for an unknown schedule name or a bad time range. */
export class ScheduleCommandError extends Error {
  override readonly name = 'ScheduleCommandError';
  constructor(
    readonly scheduleId: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`schedules: ${message}`, options);
  }
}
