// Errors thrown on purpose by the activities. The permanent ones (a bad request) fail the activity at once with a
// message saying what to pass instead; the rest are retried by Temporal.

/** Thrown by the backfill, repair, audit and maintenance activities for a malformed request (window, options). Not retryable. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

/** Thrown by commitAppend when another writer advanced the watermark first. Retryable: the retry starts from the new watermark. */
export class WatermarkMovedError extends Error {
  override readonly name = 'WatermarkMovedError';
  constructor(readonly table: string) {
    super(`offload of ${table}: the watermark moved while this batch was being written (another worker committed it); this attempt wrote nothing and will retry from the new watermark`);
  }
}
