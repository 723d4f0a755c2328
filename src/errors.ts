/**
 * Thrown by the clients (Postgres, ClickHouse, S3, Temporal) when a service cannot be reached at start.
 * The message names the setting to check; the original error is the cause.
 */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    readonly service: string,
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function reason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return reason(err.errors[0]);
  const e = err as { code?: string; message?: string };
  return [e.code, e.message].filter(Boolean).join(' ') || String(err);
}

export function describeConnectError(service: string, setting: string, target: string, err: unknown): ConnectError {
  return new ConnectError(service, setting, `cannot reach ${service} at ${target} (${reason(err)}); check ${setting} and that the server is running`, { cause: err });
}
