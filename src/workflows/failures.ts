import { ActivityFailure } from '@temporalio/workflow';

/** The innermost message of an activity failure: what broke, as the activity said it. */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
