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

/**
 * A server that answered but refused the credentials, as each service says it: Postgres SQLSTATE class 28
 * (28P01 wrong password, 28000 unknown role / pg_hba), ClickHouse code 516 / 192 (AUTHENTICATION_FAILED, UNKNOWN_USER),
 * S3 InvalidAccessKeyId / SignatureDoesNotMatch / AccessDenied, gRPC UNAUTHENTICATED / PERMISSION_DENIED (Temporal).
 */
const AUTH_FAILED = /\b28P01\b|\b28000\b|password authentication failed|AUTHENTICATION_FAILED|UNKNOWN_USER|Code: (516|192)\b|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|Access Key Id you provided does not exist|signature we calculated does not match|UNAUTHENTICATED|PERMISSION_DENIED|Unauthenticated|Unauthorized/i;

/** Where each service's credentials are set, for the message of a refused login. */
const CREDENTIALS: Record<string, string> = {
  Postgres: 'the user and password in DATABASE_URL',
  ClickHouse: 'CLICKHOUSE_USER and CLICKHOUSE_PASSWORD',
  S3: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
  Temporal: 'TEMPORAL_API_KEY or TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY',
};

/** Names, codes and messages along the cause chain: wrappers (e.g. the file IO's) keep the server's error as cause. */
function signature(err: unknown, depth = 0): string {
  if (!err || typeof err !== 'object' || depth > 5) return String(err ?? '');
  const e = err as { code?: unknown; name?: unknown; Code?: unknown; message?: unknown; cause?: unknown };
  return [e.name, e.code, e.Code, e.message].filter((x) => x !== undefined).map(String).join(' ') + ' ' + signature(e.cause, depth + 1);
}

export function describeConnectError(service: string, setting: string, target: string, err: unknown): ConnectError {
  const why = reason(err);
  if (AUTH_FAILED.test(signature(err))) {
    const creds = CREDENTIALS[service] ?? setting;
    return new ConnectError(service, setting, `${service} at ${target} refused the credentials (${why}); check ${creds}`, { cause: err });
  }
  return new ConnectError(service, setting, `cannot reach ${service} at ${target} (${why}); check ${setting} and that the server is running`, { cause: err });
}
